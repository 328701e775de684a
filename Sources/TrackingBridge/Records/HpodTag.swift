/// Every tag hpod keeps its bookkeeping in, by name: a run's identity (`hpod.tier`,
/// `hpod.trial`, …), how it ended, the verdicts hpod reached on it and the requests users
/// made of it. All start with `hpod.`, which the MLflow API keeps to hpod
/// (`Validation.reservedTagPrefix`); they are mirrored to MLflow with a run's other tags.
public enum HpodTag {
  public static let prefix = "hpod."

  // A run's identity, set when it is created (RunIdentity).
  public static let tier = "hpod.tier"
  public static let study = "hpod.study"
  public static let studyId = "hpod.study_id"
  public static let trial = "hpod.trial"
  public static let configId = "hpod.config_id"
  public static let sourceTrial = "hpod.source_trial"
  public static let attempt = "hpod.attempt"
  public static let repeatIndex = "hpod.repeat"
  public static let seed = "hpod.seed"
  /// The key the mirror finds a run it created again by (`<study id>/<trial id>`).
  public static let runKey = "hpod.run_key"

  // How a run ended.
  public static let state = "hpod.state"
  public static let reason = "hpod.reason"
  public static let pruneReason = "hpod.prune_reason"
  public static let pruneRule = "hpod.prune_rule"
  public static let pruneStep = "hpod.prune_step"
  /// The rung step a trial was paused at (`early_stopping.pause`): it stays pruned unless the
  /// rung's later arrivals promote it, and then a re-run resumes it from its checkpoint.
  public static let pausedAtRung = "hpod.paused_at_rung"
  /// A trial paused by hand (`hpod pause STUDY N`): `held` until `hpod resume STUDY N` sets
  /// `resumed` (its configuration then runs again from its last checkpoint).
  public static let pausedByUser = "hpod.paused_by_user"
  public static let held = "held"
  public static let resumed = "resumed"
  /// Population-based training: on a member it replaced, the number of the trial whose
  /// checkpoint its replacement copies.
  public static let pbtReplacedBy = "hpod.pbt.replaced_by_copy_of"
  /// On a member that continues another's checkpoint: the member it replaced, the trial it
  /// copied (also its source trial), and how its parameters were explored.
  public static let pbtParent = "hpod.pbt.parent"
  public static let pbtDonor = "hpod.pbt.donor"
  public static let pbtExplore = "hpod.pbt.explore"
  /// On a member that continues another's checkpoint: the donor's checkpoint it continues
  /// and its step (copied when the exploit picked it, so the donor training on or ending
  /// cannot change it).
  public static let pbtCheckpoint = "hpod.pbt.checkpoint"
  public static let pbtCheckpointStep = "hpod.pbt.checkpoint_step"
  /// On a replaced member: the same, for its replacement (a replacement may be replaced too).
  public static let pbtReplacementCheckpoint = "hpod.pbt.replacement_checkpoint"
  public static let pbtReplacementCheckpointStep = "hpod.pbt.replacement_checkpoint_step"
  public static let exitCode = "hpod.exit_code"
  public static let value = "hpod.value"
  /// What hpod's MLflow API last refused the trial's own client.
  public static let trackingRefusal = "hpod.tracking_refusal"
  /// The experiment a trial's script asked for (`mlflow.set_experiment`) when it was not its
  /// study's: the trial's run stayed in its study's experiment.
  public static let experimentAsked = "hpod.experiment_asked"
  /// Params the mirror cut to MLflow's length limit.
  public static let truncatedParams = "hpod.truncated_params"

  // Verdicts hpod reached.
  /// Whether a completed trial meets its study's constraints: `yes`, or `no: …` with the
  /// broken ones. A trial tagged `no` is never a study's best.
  public static let feasible = "hpod.feasible"
  /// Whether a completed trial's configuration ended on its tier's Pareto front (`yes`, `no`).
  public static let paretoFront = "hpod.pareto_front"
  /// `registered as NAME vN`, or `not registered: why`.
  public static let registration = "hpod.registration"
  /// Why a quick test was promoted to full training, or withheld.
  public static let promotion = "hpod.promotion"
  /// The search's queued configuration the trial ran (`search.enqueue[i]`).
  public static let enqueued = "hpod.enqueued"
  /// A configuration's repeats: mean, count and standard deviation of their values.
  public static let valueMean = "hpod.value_mean"
  public static let valueCount = "hpod.value_count"
  public static let valueStd = "hpod.value_std"

  // Requests users made.
  public static let promotionRequest = "hpod.promotion_request"
  public static let repeatRequest = "hpod.repeat_request"

  // A registered model version's tags in MLflow.
  public static let version = "hpod.version"
  public static let thresholds = "hpod.thresholds"
  public static let metrics = "hpod.metrics"
}
