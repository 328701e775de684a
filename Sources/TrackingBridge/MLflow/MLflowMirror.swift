public import Foundation
public import Logging

/// Mirrors mirrored studies to their MLflow servers by draining the store's outbox in order:
/// experiments and runs are created, params, tags and metric histories sent in log-batch
/// calls within MLflow's limits, runs ended with their status, artifacts uploaded through the
/// server's artifact proxy, and registered versions created with their alias.
///
/// A server that does not answer (or answers 5xx/429) stops the drain; it is retried with
/// exponential backoff and nothing leaves the outbox before the server has it, so an outage
/// or a restart of MLflow, or of hpod, loses nothing. A write the server refuses (4xx) is set
/// aside with its error for `hpod tracking status` and the rest go on.
public actor MLflowMirror {
  public struct Settings: Sendable {
    /// Per request.
    public var requestTimeout: TimeInterval = 10
    /// How often the outbox is looked at when nothing woke the mirror.
    public var pollInterval: Duration = .milliseconds(500)
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    /// How long a trial waits for its run before it starts without MLFLOW_RUN_ID.
    public var runWait: Duration = .seconds(5)
    /// What a daemon that shuts down gives the outbox to empty; the rest stays in the store.
    public var shutdownFlush: Duration = .seconds(3)

    public init() {}
  }

  let database: AppDatabase
  let logger: Logger
  let settings: Settings
  private let lease: MirrorLease?
  private var clients: [String: MLflowClient] = [:]
  private var targets: [Int64: MirrorTarget] = [:]
  private var nap: Task<Void, any Error>?
  private var napIsWakeable = true
  /// Servers that did not answer (or answered 5xx, 429, 401, 403…), by URI: their writes wait
  /// out a backoff while other servers' studies go on.
  private var outages: [String: Outage] = [:]
  /// The last error of a server that is down, if any is.
  public private(set) var lastError: String?
  /// Set once a trial started without its run during an outage, so the log says it once.
  private var warnedRunMissing = false

  private struct Outage {
    var failures: Int
    var until: ContinuousClock.Instant
  }

  /// - Parameter leasePath: a lock file shared by every hpod process on the store
  ///   (`HpodHome.mirrorLeasePath`): only its holder drains, so no write is sent twice. Nil
  ///   drains without one (a store only this process uses).
  public init(
    database: AppDatabase, leasePath: String? = nil, logger: Logger = Logger(label: "hpod.mlflow"),
    settings: Settings = Settings()
  ) {
    self.lease = leasePath.map(MirrorLease.init)
    self.database = database
    self.logger = logger
    self.settings = settings
  }

  /// Lets go of the lease and the HTTP clients once draining has ended.
  func close() {
    lease?.release()
    clients.values.forEach { $0.invalidate() }
    clients = [:]
  }

  nonisolated public func wake() {
    Task { await self.interruptNap() }
  }

  /// Waits until nothing of `studyId` (of every mirrored study when nil) waits to be sent, or
  /// `timeout` passed; returns whether it all went. Writes MLflow refused do not count.
  public func flush(studyId: Int64? = nil, timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if (try? database.mirrorBacklog(studyId: studyId)) == 0 { return true }
      interruptNap()
      try? await Task.sleep(for: .milliseconds(100))
    }
    return (try? database.mirrorBacklog(studyId: studyId)) == 0
  }

  public func environment(for trial: TrialRecord) async -> [String: String] {
    guard let target = try? target(of: trial.studyId) else { return [:] }
    var environment = ["MLFLOW_TRACKING_URI": target.uri]
    let deadline = ContinuousClock.now + settings.runWait
    while true {
      if let run = try? database.mirroredRun(trialId: trial.id!) {
        environment["MLFLOW_RUN_ID"] = run.runId
        break
      }
      guard outages[target.uri] == nil, ContinuousClock.now < deadline, !Task.isCancelled else {
        if !warnedRunMissing {
          warnedRunMissing = true
          logger.warning(
            "trial \(trial.number) (and any other that starts before MLflow answers) starts without its MLflow run (MLFLOW_RUN_ID unset): \(lastError ?? "the run is not created yet"); hpod's own records of it are mirrored later"
          )
        }
        break
      }
      interruptNap()
      try? await Task.sleep(for: .milliseconds(20))
    }
    if let experimentId = (try? self.target(of: trial.studyId))??.experimentId {
      environment["MLFLOW_EXPERIMENT_ID"] = experimentId
    }
    return environment
  }

  // MARK: Draining

  func drainForever() async {
    while !Task.isCancelled {
      if let lease, !lease.tryAcquire() {
        // Another hpod drains this store; the runs it creates are read from the store.
        await sleep(settings.pollInterval, wakeable: false)
        continue
      }
      switch await drainPass() {
      case .progressed:
        continue
      case .idle:
        await sleep(settings.pollInterval, wakeable: true)
      case .blocked(let until):
        // Only the servers that are down wait out their backoff; a wake still runs a pass
        // for the others.
        await sleep(min(until - .now, settings.pollInterval), wakeable: true)
      }
    }
  }

  enum PassOutcome {
    case progressed
    case idle
    /// Something waits for a server that is down, until this instant at the earliest.
    case blocked(until: ContinuousClock.Instant)
  }

  /// Sends what the outbox holds: runs to create first (each is the first write of its run,
  /// so this keeps every run's order while trials waiting for their run id start sooner),
  /// then the rest oldest first, then the live metric points of open runs. Writes for a
  /// server that is down are skipped, and with them every later write for that server.
  func drainPass() async -> PassOutcome {
    var progressed = false
    let now = ContinuousClock.now
    var down = Set(outages.filter { $0.value.until > now }.keys)
    do {
      for entries in [
        try database.pendingMirrorWrites(limit: 100, kind: .createRun), try database.pendingMirrorWrites(limit: 200),
      ] {
        for entry in entries {
          guard !Task.isCancelled else { return .progressed }
          guard let target = try target(of: entry.studyId), !down.contains(target.uri) else { continue }
          do {
            try database.mirrorWriteAttempted(entry.id!)
            try await send(entry, target: target)
            try database.mirrorWriteSent(entry.id!)
            answered(target.uri)
          } catch let error as MLflowError where error.kind == .refused {
            logger.error(
              "MLflow refused \(entry.kind.rawValue) for trial id \(entry.trialId.map(String.init) ?? "-"): \(error)")
            try database.mirrorWriteFailed(entry.id!, error: error.description, refused: true)
          } catch {
            try database.mirrorWriteFailed(entry.id!, error: "\(error)", refused: false)
            failed(target.uri, error)
            down.insert(target.uri)
            continue
          }
          progressed = true
        }
      }
      for trialId in try database.runsWithUnsentMetrics() {
        guard let run = try database.mirroredRun(trialId: trialId), let target = try target(of: run.studyId),
          !down.contains(target.uri)
        else { continue }
        do {
          try await sendMetrics(of: run, client: client(for: target.uri))
          answered(target.uri)
          progressed = true
        } catch {
          failed(target.uri, error)
          down.insert(target.uri)
        }
      }
    } catch {
      logger.error("MLflow mirror cannot read the store: \(error)")
      return .blocked(until: .now + settings.maxBackoff)
    }
    if progressed { return .progressed }
    if let soonest = outages.values.map(\.until).min() { return .blocked(until: soonest) }
    return .idle
  }

  /// A server failed: its writes wait out an exponential backoff.
  private func failed(_ uri: String, _ error: any Error) {
    let failures = (outages[uri]?.failures ?? 0) + 1
    let backoff = min(settings.initialBackoff * (1 << min(failures - 1, 16)), settings.maxBackoff)
    outages[uri] = Outage(failures: failures, until: .now + backoff)
    lastError = "\(error)"
    if failures == 1 || failures % 10 == 0 {
      logger.warning("MLflow at \(uri) paused, retrying in \(backoff): \(error)")
    }
  }

  private func answered(_ uri: String) {
    guard outages.removeValue(forKey: uri) != nil else { return }
    logger.notice("MLflow at \(uri) answers again; sending its backlog")
    if outages.isEmpty {
      lastError = nil
      warnedRunMissing = false
    }
  }

  private func send(_ entry: OutboxEntry, target: MirrorTarget) async throws {
    let client = client(for: target.uri)
    guard let trialId = entry.trialId else { return }
    switch entry.kind {
    case .createRun:
      try await createRun(trialId: trialId, target: target, client: client)
    case .setTags:
      let run = try mirroredRun(trialId)
      let tags = (try? JSONDecoder().decode([String: String].self, from: Data((entry.payload ?? "{}").utf8))) ?? [:]
      for chunk in MLflowLimits.chunks(MLflowLimits.tags(tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })) {
        try await client.logBatch(runId: run.runId, tags: chunk)
      }
    case .endRun:
      let run = try mirroredRun(trialId)
      try await sendMetrics(of: run, client: client)
      guard let trial = try database.trial(id: trialId) else { return }
      try await client.logBatch(runId: run.runId, tags: MLflowLimits.tags(RunIdentity.endTags(of: trial)))
      try await client.endRun(
        runId: run.runId, status: RunIdentity.status(of: trial.state),
        endTime: Int64((trial.finishedAt ?? Date()).timeIntervalSince1970 * 1000))
      try database.markMirroredRunEnded(trialId: trialId)
      await readBackNote(of: run, trialId: trialId, client: client)
    case .uploadArtifacts:
      let run = try mirroredRun(trialId)
      guard let trial = try database.trial(id: trialId) else { return }
      try await ArtifactUpload.upload(trial: trial, run: run, client: client)
    case .refusedMetrics:
      return
    case .registerModel:
      guard let id = entry.payload.flatMap(Int64.init), let version = try database.modelVersion(id: id) else { return }
      try await registerModel(version, run: try mirroredRun(trialId), target: target, client: client)
    }
  }

  /// Creates the trial's run, or finds it by its key (an attempt whose answer was lost, a
  /// store restored from a backup, a study mirrored back to a server it used before), then
  /// logs its params. The run is recorded only once its params are in, so the trial, which
  /// starts when it sees the run, cannot log a param first.
  private func createRun(trialId: Int64, target: MirrorTarget, client: MLflowClient) async throws {
    let experimentId = try await experimentId(of: target, client: client)
    guard let trial = try database.trial(id: trialId), let lineage = try database.runLineage(trialId: trialId),
      let study = try database.study(id: trial.studyId)
    else { return }
    let runKey = "\(target.storeKey)/\(trialId)"
    let recorded = try database.mirroredRun(trialId: trialId)
    var info = recorded.map { MLflowClient.RunInfo(run_id: $0.runId, artifact_uri: $0.artifactURI) }
    if info == nil {
      info = try await client.findRun(experimentId: experimentId, tag: HpodTag.runKey, equals: runKey)
    }
    if info == nil {
      info = try await client.createRun(
        experimentId: experimentId, name: RunIdentity.name(trial: trial, lineage: lineage),
        startTime: Int64(trial.createdAt.timeIntervalSince1970 * 1000),
        tags: MLflowLimits.tags(
          RunIdentity.tags(trial: trial, lineage: lineage, study: study) + [(HpodTag.runKey, runKey)]))
    }
    let run = info!
    let params = try database.params(trialId: trialId).map { ($0.name, $0.value) }
    let (shaped, truncated) = MLflowLimits.params(params)
    for chunk in MLflowLimits.chunks(shaped) {
      try await client.logBatch(runId: run.run_id, params: chunk)
    }
    if !truncated.isEmpty {
      try await client.logBatch(
        runId: run.run_id,
        tags: MLflowLimits.tags([
          (
            HpodTag.truncatedParams,
            "cut to \(MLflowLimits.paramValueLength) characters: \(truncated.joined(separator: ", "))"
          )
        ]))
    }
    if recorded == nil {
      try database.saveMirroredRun(
        MirroredRun(trialId: trialId, studyId: trial.studyId, runId: run.run_id, artifactURI: run.artifact_uri))
    }
  }

  /// Sends the run's metric points the server does not have, in batches of at most 1000;
  /// each batch acknowledged moves the run's watermark.
  private func sendMetrics(of run: MirroredRun, client: MLflowClient) async throws {
    while true {
      let batch = try database.unsentMetrics(trialId: run.trialId, limit: MLflowLimits.metricsPerBatch)
      guard let last = batch.last else { return }
      do {
        try await client.logBatch(runId: run.runId, metrics: batch.map(\.point))
      } catch let error as MLflowError where error.kind == .refused {
        // Refused points would block the run for ever: record why and go on without them.
        try database.recordRefusedMetrics(
          studyId: run.studyId, trialId: run.trialId, count: batch.count, error: error.description)
        logger.error("MLflow refused \(batch.count) metric points of trial id \(run.trialId): \(error)")
      }
      try database.markMetricsSent(trialId: run.trialId, through: last.sequence)
    }
  }

  private func registerModel(_ version: ModelVersion, run: MirroredRun, target: MirrorTarget, client: MLflowClient)
    async throws
  {
    try await client.createRegisteredModel(name: version.modelName)
    var remote = try database.mirroredModelVersion(id: version.id!)
    if remote == nil {
      let tagged = try await client.modelVersions(name: version.modelName, runId: run.runId).first {
        $0.tags?.contains { $0.key == HpodTag.version && $0.value == String(version.version) } ?? false
      }
      remote = tagged?.version
      if remote == nil {
        remote = try await client.createModelVersion(
          name: version.modelName,
          source: ArtifactUpload.source(
            of: version, run: run, runDirectory: try database.trial(id: version.trialId)?.runDirectory),
          runId: run.runId,
          tags: MLflowLimits.tags(RunIdentity.versionTags(version)),
          description: "Registered by hpod: met \(version.conditions)")
      }
      try database.saveMirroredModelVersion(id: version.id!, remoteVersion: remote!)
    }
    // The alias moves on this server only to a version mirrored to this server.
    let versions = try database.modelVersions(named: version.modelName)
    for alias in try database.modelAliases(named: version.modelName) {
      guard let aliased = versions.first(where: { $0.version == alias.version }),
        try database.mirrorTarget(studyId: aliased.studyId)?.uri == target.uri,
        let aliasedRemote = try database.mirroredModelVersion(id: aliased.id!)
      else { continue }
      try await client.setAlias(model: version.modelName, alias: alias.alias, version: aliasedRemote)
    }
  }

  // MARK: Helpers

  private func experimentId(of target: MirrorTarget, client: MLflowClient) async throws -> String {
    if let id = target.experimentId { return id }
    let id = try await client.experimentId(named: target.experimentName)
    try database.setMirrorExperiment(studyId: target.studyId, experimentId: id)
    targets[target.studyId]?.experimentId = id
    return id
  }

  private func mirroredRun(_ trialId: Int64) throws -> MirroredRun {
    guard let run = try database.mirroredRun(trialId: trialId) else {
      throw MLflowError(
        kind: .refused, code: nil, message: "the trial's MLflow run was never created (see the refused createRun)")
    }
    return run
  }

  /// The study's mirror target (nil: not mirrored); a store error is thrown, not taken for "not mirrored".
  private func target(of studyId: Int64) throws -> MirrorTarget? {
    if let cached = targets[studyId] { return cached }
    let target = try database.mirrorTarget(studyId: studyId)
    targets[studyId] = target
    return target
  }

  private func client(for uri: String) -> MLflowClient {
    if let client = clients[uri] { return client }
    let client = MLflowClient(uri: uri, timeout: settings.requestTimeout)
    clients[uri] = client
    return client
  }

  /// Sleeps, cut short by `stop()` always and by `wake()` when `wakeable`.
  private func sleep(_ duration: Duration, wakeable: Bool) async {
    guard !Task.isCancelled, duration > .zero else { return }
    let task = Task { try await Task.sleep(for: duration) }
    nap = task
    napIsWakeable = wakeable
    _ = await withTaskCancellationHandler {
      await task.result
    } onCancel: {
      task.cancel()
    }
    nap = nil
  }

  private func interruptNap() {
    if napIsWakeable { nap?.cancel() }
  }
}
