public import Foundation
public import Logging
import SearchStrategies
import StudyModel
import Synchronization
public import TrackingBridge

#if canImport(Glibc)
  import Glibc
#endif

/// The daemon's heart: runs any number of studies at once under one limit of trial processes,
/// resumes unfinished studies when it starts, and publishes every study's events.
///
/// Shutdown stops the running trials (SIGTERM, then SIGKILL after their grace period) and
/// leaves their studies `running`, so the next start resumes them: interrupted trials run
/// again with the same configuration, finished ones are kept. Trials are not left running
/// unsupervised across restarts; one left behind by a crash (kill -9) is killed on start.
public actor StudyService {
  nonisolated public let database: AppDatabase
  nonisolated public let home: HpodHome
  /// How long the daemon's studies take to suggest, for /metrics.
  nonisolated public let suggestionLatency = SuggestionLatency()
  /// Where every study's events go (the daemon's event streams).
  nonisolated let publish: @Sendable (StudyEvent, _ studyId: Int64) -> Void
  nonisolated public let slots: TrialSlots
  /// The GPUs and CPUs local trials are placed on, across every study of the daemon.
  nonisolated public let resources: ResourcePool
  /// Sends mirrored studies to MLflow from the store's outbox: a service of its own in the
  /// daemon's group (ahead of this one, so it drains until this one has stopped).
  nonisolated public let mirror: MLflowMirror
  /// Where each study's trials are tracked: mirrored to its MLflow server, or through hpod's
  /// MLflow API (`embedded`, when the daemon serves one), as `hpod run` decides.
  nonisolated public let tracking: TrackingSinks
  /// Runs every study's trials when set (tests); nil: each study's spec chooses.
  private let executor: (any TrialExecutor)?
  let logger: Logger
  var runs: [Int64: (task: Task<Void, Never>, stop: StopSignal, wakeup: Wakeup, end: RunEnd)] = [:]
  /// The search strategy of each ask-and-tell study, kept between asks as a runner keeps its
  /// own: what it learnt fitting the last history (a GP's hyperparameters, its choice of
  /// output warping) speeds up the next suggestion.
  var askStrategies: [Int64: any SearchStrategy] = [:]
  /// The warm start's observations of each ask-and-tell study (fixed once the study exists).
  var askWarmStarts: [Int64: [Observation]] = [:]
  let specs = SpecCache()
  let warmStarts = WarmStartCache()
  /// Study summaries, dropped whenever one of the study's trials changes (every change is
  /// published as an event), so status reads of idle and finished studies cost no query;
  /// kept for `summaryMaxAge` at most, for the studies another process writes.
  let summaries: SummaryCache
  /// Studies waiting for a store that cannot be written, with why (the store cannot say so).
  private let pauses = PausedStudies()
  /// Set once the daemon stops: writes that wait for the store give up.
  private let shuttingDown = Mutex(false)
  /// Studies asked to stop whose runners have not ended yet (trials in their grace period).
  private let stopping = PausedStudies()
  /// The studies this service has a runner for (started, or waiting for their lease), for
  /// the reads off the actor that must tell a study nobody runs from one the daemon runs.
  let driving = Mutex<Set<Int64>>([])
  public private(set) var isReady = false

  public init(
    database: AppDatabase, home: HpodHome, maxConcurrentTrials: Int,
    resources: ResourcePool = ResourcePool(gpus: [], cpus: ProcessInfo.processInfo.activeProcessorCount),
    trackingEndpoint: TrackingEndpoint? = nil,
    executor: (any TrialExecutor)? = nil,
    logger: Logger = Logger(label: "hpod.service"),
    summaryMaxAge: Duration = .seconds(1),
    publish: @escaping @Sendable (StudyEvent, _ studyId: Int64) -> Void = { _, _ in }
  ) {
    self.publish = publish
    self.summaries = SummaryCache(maxAge: summaryMaxAge)
    self.database = database
    self.home = home
    self.slots = TrialSlots(limit: maxConcurrentTrials)
    self.resources = resources
    self.executor = executor
    self.logger = logger
    let mirror = MLflowMirror(database: database, leasePath: home.mirrorLeasePath, logger: Logger(label: "hpod.mlflow"))
    self.mirror = mirror
    tracking = TrackingSinks(
      database: database, mirror: mirror,
      embedded: trackingEndpoint.map { EmbeddedTracking(endpoint: $0, mirror: mirror) })
  }

  /// Resumes every study that was running when the daemon last stopped.
  public func start() async throws {
    for study in try database.studies().reversed() where study.state == .running {
      do {
        let spec = try specs.spec(of: study)
        guard !spec.isAskAndTell else { continue }
        logger.info("resuming study \(study.id!) '\(study.name)'")
        launch(study, spec: spec)
      } catch {
        logger.error("cannot resume study \(study.id!) '\(study.name)': \(error)")
        try database.setStudyState(id: study.id!, .failed, reason: "cannot resume: \(error)")
      }
    }
    isReady = true
  }

  /// Validates and starts a study. A spec error throws `SpecValidationError`.
  ///
  /// - Parameter baseDirectory: where the spec's relative paths (`trial.workdir`) start: the
  ///   folder the client read the spec from. Defaults to the daemon's working directory.
  public func submit(yaml: String, file: String = "study.yaml", baseDirectory: String? = nil) async throws
    -> StudyRecord
  {
    // Parsing checks folders and the store writes the study: on a blocking thread, so twenty
    // submits at once leave the daemon's tasks (and its /healthz) running.
    let database = database
    let (study, spec) = try await BlockingWork.run {
      try Self.create(yaml: yaml, file: file, baseDirectory: baseDirectory, database: database)
    }
    if spec.isAskAndTell {
      // No runner attaches it: attach it now, so told trials reach a mirrored MLflow too.
      try await tracking.sink(for: spec)?.attach(studyId: study.id!)
    } else {
      launch(study, spec: spec)
    }
    logger.info("study \(study.id!) '\(study.name)' submitted")
    return study
  }

  /// The new study's row for a submitted spec, and the spec.
  private static func create(yaml: String, file: String, baseDirectory: String?, database: AppDatabase) throws
    -> (StudyRecord, StudySpec)
  {
    if let baseDirectory {
      var isDirectory: ObjCBool = false
      guard baseDirectory.hasPrefix("/"),
        FileManager.default.fileExists(atPath: baseDirectory, isDirectory: &isDirectory),
        isDirectory.boolValue
      else {
        throw ServiceError.badRequest("the spec's folder \(baseDirectory) does not exist on the daemon's machine")
      }
    }
    let spec = try StudySpec.parse(yaml: yaml, file: file, baseDirectory: baseDirectory)
    _ = try spec.makeStrategy()
    let specPath = baseDirectory.map { "\($0)/\((file as NSString).lastPathComponent)" }
    // The session `hpod run --new` opens: a submitted spec is always a new study. Its runner
    // takes the study's lease before any trial, as hpod run's does.
    guard
      case .new(let study) = try StudySession.start(
        spec: spec, yaml: yaml, path: specPath, database: database, fresh: true)
    else { throw ServiceError.conflict("study '\(spec.name)' could not be created") }
    return (study, spec)
  }

  /// Stops a study and answers within a second: a study whose trials take longer to stop
  /// (their grace period) is answered as `stopping`, and ends `cancelled` once they have.
  public func cancel(_ id: Int64) async throws -> StudyRecord {
    try await stop(id, outcome: .cancelled, reason: "cancelled by the user")
  }

  /// Stops the study's trials and leaves it `interrupted`: nothing runs until `resume`, which
  /// re-runs the stopped trials from their last checkpoints (a daemon restart does not).
  public func pause(_ id: Int64) async throws -> StudyRecord {
    try await stop(id, outcome: .interrupted, reason: "paused by the user; `hpod resume \(id)` continues it")
  }

  private func stop(_ id: Int64, outcome: StudyState, reason: String) async throws -> StudyRecord {
    let study = try existing(id)
    try requireNotOwnedElsewhere(study)
    if let run = runs[id] {
      run.stop.stop(reason: reason, outcome: outcome)
      if await !run.end.wait(upTo: Self.cancelAnswerTime) {
        stopping.reasons.withLock { $0[id] = "\(reason); its running trials are stopping" }
      }
    } else if !study.state.isFinished, study.state != outcome {
      let database = database
      try await BlockingWork.run { try database.setStudyState(id: id, outcome, reason: reason) }
    }
    return try existing(id)
  }

  static let cancelAnswerTime: Duration = .milliseconds(500)

  /// Runs a study that is not running again: interrupted and cancelled trials run again,
  /// finished ones are kept.
  public func resume(_ id: Int64) throws -> StudyRecord {
    let study = try existing(id)
    guard runs[id] == nil else { return study }
    try requireNotOwnedElsewhere(study)
    guard study.state != .completed else {
      throw ServiceError.conflict("study \(id) is completed; submit it again to start a new study")
    }
    let spec = try specs.spec(of: study)
    if spec.isAskAndTell {
      try database.setStudyState(id: id, .running)
    } else {
      launch(study, spec: spec)
    }
    return try existing(id)
  }

  /// Stops every running study for a restart (they resume when the daemon starts again).
  public func shutdown() async {
    shuttingDown.withLock { $0 = true }
    let all = runs.values
    for run in all {
      run.stop.stop(reason: "the daemon is shutting down; the study resumes when it restarts", outcome: .running)
    }
    for run in all { await run.task.value }
  }

  public func isRunning(_ id: Int64) -> Bool { runs[id] != nil }

  /// A study with its spec (parsed once and kept) and its trials' summary. Reads run in
  /// parallel, off the actor.
  nonisolated public func describe(_ study: StudyRecord) throws -> StudyDescription {
    // A spec that no longer parses (its program was moved) still lets the study be listed,
    // without what the spec adds; starting the study says why it cannot run.
    let spec = try? specs.spec(of: study)
    let summary = try summaries.summary(of: study.id!) {
      try database.summary(studyId: study.id!, higherIsBetter: study.direction == .maximize)
    }
    var description = StudyDescription(
      study: study, spec: spec, summary: summary, pausedFor: pauses.reasons.withLock { $0[study.id!] },
      // A study whose end is recorded is no longer stopping, though its runner may not have
      // returned yet.
      stoppingFor: study.state.isFinished ? nil : stopping.reasons.withLock { $0[study.id!] })
    description.undrivenFor = undriven(study, spec: spec)
    // Likewise the warm start: shown when it can be read; its error is the study's when it runs.
    if let spec { description.warmStart = try? warmStart(of: study, spec: spec) }
    return description
  }

  /// The other study's trials a study's search started from (`search.warm_start`), read once
  /// and kept: the set is fixed when the study is created. Nil for a study without one.
  nonisolated public func warmStart(of study: StudyRecord, spec: StudySpec) throws -> WarmStartHistory? {
    guard let warmStart = spec.search.warmStart else { return nil }
    return try warmStarts.history(of: study.id!) {
      try WarmStartHistory.load(warmStart, for: spec, study: study, database: database)
    }
  }

  /// Why each paused study waits, by id.
  nonisolated public var pausedStudies: [Int64: String] { pauses.reasons.withLock { $0 } }

  nonisolated public func describe(_ id: Int64) throws -> StudyDescription { try describe(try existing(id)) }

  /// A study's spec, parsed once and kept.
  nonisolated public func spec(of study: StudyRecord) throws -> StudySpec { try specs.spec(of: study) }

  /// A number that changes whenever one of the study's trials does (before its event is
  /// published), for caches of what is derived from them.
  nonisolated public func changeCount(of id: Int64) -> Int { summaries.generation(of: id) }

  func launch(_ study: StudyRecord, spec: StudySpec) {
    let stop = StopSignal()
    let wakeup = Wakeup()
    let studyId = study.id!
    let publish = publish
    let summaries = summaries
    let pauses = pauses
    let logger = logger
    let runner: StudyRunner
    do {
      runner = StudyRunner(
        spec: spec, database: database, home: home, executor: executor, strategy: try spec.makeStrategy(),
        logger: logger, slots: slots, resources: resources,
        tracking: tracking.sink(for: spec), wakeup: wakeup,
        suggestionLatency: suggestionLatency,
        onEvent: { event in
          switch event {
          case .studyPaused(let reason):
            pauses.reasons.withLock { $0[studyId] = reason }
            logger.warning("study \(studyId) '\(study.name)' paused: \(reason)")
          case .studyResumed(let pausedFor):
            pauses.reasons.withLock { _ = $0.removeValue(forKey: studyId) }
            logger.notice("study \(studyId) '\(study.name)' resumed (it was paused: \(pausedFor))")
          case .studyFinished:
            pauses.reasons.withLock { _ = $0.removeValue(forKey: studyId) }
          default: break
          }
          summaries.invalidate(studyId)
          publish(event, studyId)
        })
    } catch {
      do { try database.setStudyState(id: studyId, .failed, reason: "\(error)") } catch let storeError {
        logger.error("study \(studyId): cannot record that it failed (\(error)): \(storeError)")
      }
      return
    }
    let end = RunEnd()
    let database = database
    let task = Task {
      do {
        let (lease, waited) = try await self.waitForLease(study, stop: stop)
        guard let lease else {
          self.finished(studyId, end: end)
          return
        }
        // While it waited, the study's other owner may have finished or interrupted it: that
        // was its user's decision, so the daemon only carries on a study still running.
        let current = try self.existing(studyId)
        guard !waited || current.state == .running else {
          logger.info("study \(studyId) '\(study.name)' was left \(current.state.rawValue) by its previous owner")
          lease.release()
          self.finished(studyId, end: end)
          return
        }
        let final = try await runner.run(current, stopSignal: stop, lease: lease)
        logger.info("study \(studyId) '\(study.name)' \(final.state.rawValue)")
      } catch {
        // A stopped study ends as its stop says (cancelled, or running to resume at the next
        // start); one that could not go on fails with why.
        let (state, reason) = stop.reason.map { (stop.outcome, $0) } ?? (.failed, "\(error)")
        logger.error("study \(studyId) '\(study.name)' stopped: \(error)")
        await self.record(studyId, state, reason: reason, stop: stop)
      }
      self.finished(studyId, end: end)
    }
    runs[studyId] = (task, stop, wakeup, end)
    driving.withLock { _ = $0.insert(studyId) }
  }

  /// Records how a study ended. While the store cannot take it (the disk is full) the daemon
  /// keeps trying, once a second, until it can or the daemon stops: a cancel is never lost
  /// while the daemon lives. A study left `running` by a shutdown needs no write: the next
  /// start resumes it.
  nonisolated private func record(_ studyId: Int64, _ state: StudyState, reason: String, stop: StopSignal) async {
    if state == .running { return }
    let database = database
    while true {
      do {
        try await BlockingWork.run { try database.setStudyState(id: studyId, state, reason: reason) }
        return
      } catch {
        guard !shuttingDown.withLock({ $0 }), StoreOutage.isEnvironmental(error) else {
          logger.error("study \(studyId): cannot record that it ended \(state.rawValue): \(error)")
          return
        }
        logger.warning("study \(studyId): waiting for the store to record that it ended \(state.rawValue): \(error)")
        try? await Task.sleep(for: .seconds(1))
      }
    }
  }

  /// A study's runner ended. A full training requested by hand as it was ending (too late for
  /// it to see) runs the study again, for that full training alone.
  private func finished(_ id: Int64, end: RunEnd) {
    runs[id] = nil
    driving.withLock { _ = $0.remove(id) }
    stopping.reasons.withLock { _ = $0.removeValue(forKey: id) }
    end.signal()
    do {
      let study = try existing(id)
      guard study.state == .completed, try !database.pendingPromotionRequests(studyId: id).isEmpty else { return }
      let spec = try specs.spec(of: study)
      logger.info("study \(id) '\(study.name)' runs again for a requested full training")
      launch(study, spec: spec)
    } catch {
      logger.error(
        "study \(id): a full training requested as it ended may not run: \(error); ask for it again once the store or the spec can be read"
      )
    }
  }

  nonisolated public func existing(_ id: Int64) throws -> StudyRecord {
    guard let study = try database.study(id: id) else { throw ServiceError.notFound("study \(id) not found") }
    return study
  }

  static func spec(of study: StudyRecord) throws -> StudySpec {
    let base = study.specPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
    return try StudySpec.parse(yaml: study.specYAML, file: study.specPath ?? "study.yaml", baseDirectory: base)
  }
}
