public import Foundation
public import SearchStrategies
public import StudyModel
public import TrackingBridge

/// A validated study: what to search, how to run a trial, and what to do with the results.
/// Built only by `StudySpec.parse(yaml:file:)`, which reports every problem of a spec at once.
public struct StudySpec: Sendable, Hashable {
  public var name: String
  public var description: String?
  /// The objective, or with several (`objectives:`) the first, which orders trials where one
  /// order is needed (a trial's `value`, the alias).
  public var objective: Objective
  /// Every objective, `objective` first; one for a single-objective study.
  public var objectives: [Objective] = []
  /// `constraints:` on final metrics; a completed trial that breaks one is infeasible.
  public var constraints: [Threshold] = []
  public var search: Search
  public var space: SearchSpace
  public var trial: TrialTemplate
  /// Per-tier values for `{tier.key}` placeholders; empty when the study has no tiers.
  public var tiers: [Tier: [String: ParameterValue]]
  public var promotion: Promotion?
  public var earlyStopping: EarlyStopping?
  public var registration: Registration?
  public var tracking: Tracking
  public var executor: Executor = .local
  /// `resources:` per tier (the search tier's apply to a tier that declares none).
  public var resourcesByTier: [Tier: Resources] = [:]
  /// `repeats:` per tier: how many times each configuration runs, each repeat with its own
  /// seed (1 for a tier not listed).
  public var repeatsByTier: [Tier: Int] = [:]
  public var checkpoint = Checkpoint()

  public struct Objective: Sendable, Hashable {
    public var metric: String
    public var direction: Direction
  }

  public enum Algorithm: String, Sendable, Hashable, CaseIterable {
    case grid
    case random
    case quasiRandom = "quasi_random"
    case bayes
    /// Population-based training (`search.population`, `perturbation_interval`, ...).
    case pbt
  }

  public struct Search: Sendable, Hashable {
    public var algorithm: Algorithm
    public var seed: UInt64
    /// Quick-test trials to run; `nil` only for grid search (the grid's size is the budget).
    public var maxTrials: Int?
    public var parallelism: Int
    public var startupTrials: Int?
    /// `search.enqueue`: configurations to run first, in order, before the strategy's own
    /// (Optuna's `enqueue_trial`). Each counts against `max_trials`; a parameter an entry
    /// leaves out takes the strategy's value.
    public var enqueue: [Configuration] = []
    /// `search.warm_start`: another study whose finished trials feed the model.
    public var warmStart: WarmStart?
    /// `algorithm: pbt`: the population and how its members exploit and explore.
    public var populationBasedTraining: PopulationBasedTraining?
  }

  /// `search.warm_start: {study: NAME}`: the completed search trials of the latest study of
  /// that name in the same store (as it stood when this study was created) are the strategy's
  /// first observations. They are not this study's trials: they use none of its budget.
  public struct WarmStart: Sendable, Hashable {
    public var study: String
    /// Where the spec names it, for errors found against the store (`file:line:column`).
    public var site: SpecIssue
  }

  /// Who runs a study's trials.
  public enum TrialDriver: Sendable, Hashable {
    /// hpod runs each trial as this argv, with `{param}` and `{tier.key}` placeholders.
    case process(command: [String])
    /// The trials run outside hpod: a client asks for each one and tells its result (the spec
    /// has no `trial:` section).
    case askAndTell
  }

  public struct TrialTemplate: Sendable, Hashable {
    public var driver: TrialDriver
    /// Absolute working directory (a relative one is resolved against the spec's folder).
    public var workdir: String
    public var environment: [String: String]
    public var timeout: Duration?
    /// Re-runs of a crashed trial (same configuration) before it counts as failed.
    public var retries: Int
    /// The study fails once this many trials have failed for good.
    public var maxFailedTrials: Int?
    public var costPerHour: Double?
    /// Each of stdout and stderr is kept up to this many bytes.
    public var logLimitBytes: Int
    /// Time between SIGTERM and SIGKILL when a trial is stopped.
    public var stopGracePeriod: Duration
    /// The study fails by itself when its trials cannot work (`FailFast`).
    public var failFast = true
  }

  public enum PromotionMode: String, Sendable, Hashable, CaseIterable {
    /// Promote the best quick tests once the search has spent its budget.
    case afterSearch = "after_search"
    /// Promote as soon as a quick test beats the best promoted one by `margin`.
    case continuous
  }

  public struct Promotion: Sendable, Hashable {
    public var topK: Int
    public var minValue: Double?
    public var mode: PromotionMode
    public var margin: Double
    public var maxFullTrainings: Int
    /// The best quick tests are run up to this many repeats before any is promoted (at
    /// least the search tier's repeats).
    public var repeats: Int = 1
    /// How many of the best quick tests get those repeats and are weighed against each other.
    public var candidates: Int = 1
    /// Promote only a candidate better than each of the other candidates (and than the
    /// registered model's quick test) with Welch's p below this; nil: promote by the mean alone.
    public var significance: Double?
    /// With several objectives: which of the quick tests' Pareto front to train in full first.
    public var pick: FrontPick = .hypervolume
    /// A full training starts from its quick test's last checkpoint (copied into its own
    /// folder) and history, so it trains only what the quick test did not.
    public var continueTraining = false
  }

  /// How `promotion` orders the quick tests' Pareto front (several objectives).
  public enum FrontPick: Sendable, Hashable {
    /// By each member's share of the front's hypervolume, largest first: the members that
    /// cover most of the trade-off.
    case hypervolume
    /// By distance to the ideal point (every objective at its best over the front), with
    /// objectives scaled to [0, 1]: the balanced compromises first.
    case knee
    /// The members that meet `where`, by `metric` in its objective's direction.
    case best(metric: String, where: [Threshold])
  }

  public enum StoppingRule: Sendable, Hashable {
    case median(minSteps: Int, minTrials: Int)
    case patience(patience: Int, minDelta: Double, minSteps: Int)
    case threshold(lower: Double?, upper: Double?, minSteps: Int)
    case asha(minResource: Int, maxResource: Int?, reductionFactor: Int)
    case hyperband(minResource: Int, maxResource: Int?, reductionFactor: Int)
  }

  public struct EarlyStopping: Sendable, Hashable {
    public var rule: StoppingRule
    /// The metric the rule watches; the objective's when not given.
    public var metric: String
    /// `pause: true` (asha, hyperband): a trial cut at a rung is paused, not stopped for good,
    /// and resumed from its checkpoint when the rung's later arrivals promote it.
    public var pausesAtRungs = false
  }

  public struct Threshold: Sendable, Hashable, CustomStringConvertible {
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
      case greaterOrEqual = ">="
      case lessOrEqual = "<="
      case equal = "=="
      case greater = ">"
      case less = "<"
    }

    public var metric: String
    public var comparison: Comparison
    public var value: Double

    public func holds(for actual: Double) -> Bool {
      switch comparison {
      case .greaterOrEqual: actual >= value
      case .lessOrEqual: actual <= value
      case .equal: actual == value
      case .greater: actual > value
      case .less: actual < value
      }
    }

    public var description: String { "\(metric) \(comparison.rawValue) \(ParameterValue.double(value))" }
  }

  public struct Registration: Sendable, Hashable {
    public var model: String
    public var conditions: [Threshold]
    public var artifact: String?
    public var alias: String?
    /// The tier whose runs are registered (full training when the study has tiers).
    public var tier: Tier
  }

  public struct Tracking: Sendable, Hashable {
    public var experiment: String
    public var mlflowURI: String?
  }

  /// Whether the study trades several objectives off (a Pareto front rather than one best).
  public var isMultiObjective: Bool { objectives.count > 1 }

  /// The tier the search runs in.
  public var searchTier: Tier { .quickTest }

  /// How many times each configuration of `tier` runs.
  public func repeats(for tier: Tier) -> Int { repeatsByTier[tier] ?? 1 }

  /// The seed of a configuration's repeat: `search.seed` plus the repeat's index, the same for
  /// every configuration, so repeat k of two configurations shares its seed (and fold).
  public func seed(repeat index: Int) -> Int64 { Int64(truncatingIfNeeded: search.seed &+ UInt64(index)) }

  /// A study without a trial command: its trials run outside hpod, through ask and tell.
  public var isAskAndTell: Bool { trial.driver == .askAndTell }
}
