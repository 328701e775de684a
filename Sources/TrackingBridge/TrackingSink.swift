/// Where trials are tracked besides the embedded store. The store is always written first;
/// a sink mirrors it from there (through the store's outbox), so a sink that is down costs
/// nothing but delay.
public protocol TrackingSink: Sendable {
  /// Environment variables for the trial's process, so the trial's own tracking calls land in
  /// its mirrored run (MLFLOW_TRACKING_URI, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID). Waits briefly
  /// for the run to exist; returns what it knows if the server does not answer in time.
  func environment(for trial: TrialRecord) async -> [String: String]

  /// Something was written: look at the outbox now rather than at the next poll.
  func wake()
}
