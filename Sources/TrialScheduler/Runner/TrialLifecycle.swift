import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

/// The one way a trial is created, started and finished, for every path that makes trials:
/// the study runner (a trial process hpod launches) and the daemon's ask and tell (a trial
/// run elsewhere), in the spirit of Optuna's `_tell`. Each step is one store transaction,
/// with its outbox entries, retried through the study's `StoreOutage` while the store cannot
/// be written; then the trial's event goes to `emit`, which the caller points at what follows
/// a study (the terminal view, the daemon's caches and streams, the tracking sink's wake).
struct TrialLifecycle: Sendable {
  let database: AppDatabase
  /// Nil: a write that fails throws at once (a request answered with the error).
  let outage: StoreOutage?
  let emit: @Sendable (StudyEvent) -> Void

  /// Where a new trial sits among its configuration's trials.
  struct Placement {
    /// The configuration's first trial, for every other trial of it.
    var repeatOf: Int64?
    var repeatIndex = 0
    var seed: Int64?
  }

  /// `tags`: the trial's first tags, written with it (the queued configuration it runs).
  func create(
    studyId: Int64, _ configuration: Configuration, tier: Tier, retryOf: Int64? = nil, source: Int64? = nil,
    placement: Placement = Placement(), tags: [String: String] = [:]
  ) async throws -> TrialRecord {
    let params = configuration.map {
      ParamRecord(trialId: 0, name: $0.key, value: $0.value.description, numericValue: $0.value.numericValue)
    }
    let trial = TrialRecord(
      studyId: studyId, number: 0, tier: tier, paramsJSON: JSONCoding.text(configuration), retryOf: retryOf,
      sourceTrialId: source, repeatOf: placement.repeatOf, repeatIndex: placement.repeatIndex, seed: placement.seed)
    return try await write("creating a trial", database.creatingTrial(trial, params: params, tags: tags))
  }

  /// Records the trial as running (an external handle and no folder for a trial run outside hpod).
  func start(_ trial: TrialRecord, handle: TrialHandle = .external, runDirectory: String = "", at date: Date = Date())
    async throws -> TrialRecord?
  {
    let started = try await write(
      "recording the start of trial \(trial.number)",
      database.startingTrial(trial, handle: handle.json, runDirectory: runDirectory, at: date))
    if let started { emit(.trialStarted(started)) }
    return started
  }

  /// Records the outcome and the trial's last points; nil (writing nothing) when it had
  /// finished already, or, `whileStudyRuns`, when its study is not running.
  func finish(
    _ trialId: Int64, _ outcome: AppDatabase.TrialOutcome, metrics: [MetricPoint] = [], whileStudyRuns: Bool = false
  ) async throws -> TrialRecord? {
    let finished = try await write(
      "recording a trial's outcome",
      database.finishingTrial(id: trialId, outcome, metrics: metrics, whileStudyRuns: whileStudyRuns))
    if let finished { emit(.trialFinished(finished)) }
    return finished
  }

  /// Runs the write through GRDB's asynchronous API (no cooperative thread waits on SQLite).
  private func write<T>(_ what: String, _ write: StoreWrite<T>) async throws -> T {
    guard let outage else { return try await database.perform(write) }
    return try await outage.retrying(what) { try await database.perform(write) }
  }
}
