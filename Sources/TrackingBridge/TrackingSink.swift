/// Where a study's trials are tracked besides the embedded store: the one seam between
/// running trials and tracking. The store is always written first; a sink carries it on from
/// there (an MLflow server mirrored through the store's outbox, `MirroredTracking`) or serves
/// the trials' own mlflow calls into the store (hpod's MLflow API, `EmbeddedTracking`), so a
/// sink that is down costs nothing but delay. `TrackingSinks` picks a study's sink.
public protocol TrackingSink: Sendable {
  /// Makes the study's runs go where this sink sends them, before its first trial starts
  /// (a mirrored study's MLflow server and experiment). Safe to call again.
  func attach(studyId: Int64) async throws

  /// Environment variables for the trial's process, so the trial's own tracking calls land in
  /// its run (MLFLOW_TRACKING_URI, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID, a token). Waits briefly
  /// for the run to exist; returns what it knows if the server does not answer in time.
  func environment(for trial: TrialRecord) async -> [String: String]

  /// The points the trial logs through the sink itself while it runs (its mlflow calls to
  /// hpod's MLflow API, stored already), until `endLoggedMetrics`; nil: the sink hears of none.
  func loggedMetrics(trialId: Int64) -> AsyncStream<[MetricPoint]>?

  /// The trial has ended: its logged points are no longer followed.
  func endLoggedMetrics(trialId: Int64)

  /// Something was written: look at the outbox now rather than at the next poll.
  func wake()
}
