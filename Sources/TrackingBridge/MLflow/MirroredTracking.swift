/// The tracking sink of a study whose spec names an MLflow server: the study's runs are
/// mirrored there by `MLflowMirror` from the store's outbox, and each trial's own mlflow
/// calls go to its mirrored run.
public struct MirroredTracking: TrackingSink {
  public let mirror: MLflowMirror
  let database: AppDatabase
  /// The server's URI and the experiment the study's runs go to.
  public let uri: String
  public let experiment: String

  public init(mirror: MLflowMirror, database: AppDatabase, uri: String, experiment: String) {
    self.mirror = mirror
    self.database = database
    self.uri = uri
    self.experiment = experiment
  }

  /// Records the study's target in the store (its trials' writes are queued in the outbox
  /// from then on), on the store's own queue.
  public func attach(studyId: Int64) async throws {
    try await database.perform(database.mirroring(studyId: studyId, uri: uri, experimentName: experiment))
  }

  public func environment(for trial: TrialRecord) async -> [String: String] {
    await mirror.environment(for: trial)
  }

  public func loggedMetrics(trialId: Int64) -> AsyncStream<[MetricPoint]>? { nil }

  public func endLoggedMetrics(trialId: Int64) {}

  public func wake() { mirror.wake() }
}
