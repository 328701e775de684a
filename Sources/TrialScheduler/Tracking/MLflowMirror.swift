public import Foundation
public import Logging
public import TrackingBridge

/// Mirrors mirrored studies to their MLflow servers by draining the store's outbox in order:
/// experiments and runs are created, params, tags and metric histories sent in log-batch
/// calls within MLflow's limits, runs ended with their status, artifacts uploaded through the
/// server's artifact proxy, and registered versions created with their alias.
///
/// A server that does not answer (or answers 5xx/429) stops the drain; it is retried with
/// exponential backoff and nothing leaves the outbox before the server has it, so an outage
/// or a restart of MLflow, or of hpod, loses nothing. A write the server refuses (4xx) is set
/// aside with its error for `hpod tracking status` and the rest go on.
public actor MLflowMirror: TrackingSink {
  public struct Settings: Sendable {
    /// Per request.
    public var requestTimeout: TimeInterval = 10
    /// How often the outbox is looked at when nothing woke the mirror.
    public var pollInterval: Duration = .milliseconds(500)
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    /// How long a trial waits for its run before it starts without MLFLOW_RUN_ID.
    public var runWait: Duration = .seconds(5)

    public init() {}
  }

  private let database: AppDatabase
  private let logger: Logger
  private let settings: Settings
  private let lease: MirrorLease?
  private var clients: [String: MLflowClient] = [:]
  private var targets: [Int64: MirrorTarget?] = [:]
  private var loop: Task<Void, Never>?
  private var nap: Task<Void, any Error>?
  private var napIsWakeable = true
  /// Consecutive passes that stopped on an unreachable or failing server.
  private var failures = 0
  public private(set) var lastError: String?
  /// Set once a trial started without its run during this outage, so the log says it once.
  private var warnedRunMissing = false

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

  /// Starts draining in the background until `stop()`.
  public func start() {
    guard loop == nil else { return }
    loop = Task { await self.drainForever() }
  }

  public func stop() async {
    loop?.cancel()
    nap?.cancel()
    await loop?.value
    loop = nil
    lease?.release()
  }

  nonisolated public func wake() {
    Task { await self.interruptNap() }
  }

  /// Waits until the outbox is empty, or `timeout` passed; returns whether it emptied.
  public func flush(timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if (try? backlog()) == 0 { return true }
      interruptNap()
      try? await Task.sleep(for: .milliseconds(50))
    }
    return (try? backlog()) == 0
  }

  /// Writes not yet sent, counting metric points of mirrored runs.
  public func backlog() throws -> Int {
    try database.mirrorStatus().reduce(0) { $0 + $1.backlog }
  }

  public func environment(for trial: TrialRecord) async -> [String: String] {
    guard let target = target(of: trial.studyId) else { return [:] }
    var environment = ["MLFLOW_TRACKING_URI": target.uri]
    let deadline = ContinuousClock.now + settings.runWait
    while true {
      if let run = try? database.mirroredRun(trialId: trial.id!) {
        environment["MLFLOW_RUN_ID"] = run.runId
        break
      }
      guard failures == 0, ContinuousClock.now < deadline, !Task.isCancelled else {
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
    if let experimentId = self.target(of: trial.studyId)?.experimentId {
      environment["MLFLOW_EXPERIMENT_ID"] = experimentId
    }
    return environment
  }

  // MARK: Draining

  private func drainForever() async {
    while !Task.isCancelled {
      if let lease, !lease.tryAcquire() {
        // Another hpod drains this store; the runs it creates are read from the store.
        await sleep(settings.pollInterval, wakeable: false)
        continue
      }
      let outcome = await drainPass()
      switch outcome {
      case .progressed:
        if failures > 0 { logger.notice("MLflow answers again; sending the backlog") }
        failures = 0
        lastError = nil
        warnedRunMissing = false
      case .idle:
        failures = 0
        lastError = nil
        await sleep(settings.pollInterval, wakeable: true)
      case .blocked(let error):
        failures += 1
        lastError = error.description
        let backoff = min(settings.initialBackoff * (1 << min(failures - 1, 16)), settings.maxBackoff)
        if failures == 1 || failures % 10 == 0 {
          logger.warning("MLflow mirror paused, retrying in \(backoff): \(error)")
        }
        await sleep(backoff, wakeable: false)
      }
    }
  }

  enum PassOutcome {
    case progressed
    case idle
    case blocked(MLflowError)
  }

  /// Sends what the outbox holds, oldest first, then the live metric points of open runs.
  func drainPass() async -> PassOutcome {
    var progressed = false
    do {
      let entries = try database.pendingMirrorWrites(limit: 200)
      for entry in entries {
        guard !Task.isCancelled else { return .progressed }
        do {
          try database.mirrorWriteAttempted(entry.id!)
          try await send(entry)
          try database.mirrorWriteSent(entry.id!)
          progressed = true
        } catch let error as MLflowError where error.isRetryable {
          try database.mirrorWriteFailed(entry.id!, error: error.description, refused: false)
          return .blocked(error)
        } catch {
          logger.error(
            "MLflow refused \(entry.kind.rawValue) for trial \(entry.trialId.map(String.init) ?? "-"): \(error)")
          try database.mirrorWriteFailed(entry.id!, error: "\(error)", refused: true)
          progressed = true
        }
      }
      if entries.count == 200 { return .progressed }
      for trialId in try database.runsWithUnsentMetrics() {
        guard let run = try database.mirroredRun(trialId: trialId) else { continue }
        try await sendMetrics(of: run)
        progressed = true
      }
    } catch let error as MLflowError {
      return error.isRetryable ? .blocked(error) : .progressed
    } catch {
      logger.error("MLflow mirror cannot read the store: \(error)")
      return .blocked(MLflowError(kind: .unavailable, code: nil, message: "store: \(error)"))
    }
    return progressed ? .progressed : .idle
  }

  private func send(_ entry: OutboxEntry) async throws {
    guard let target = target(of: entry.studyId) else { return }
    let client = client(for: target.uri)
    guard let trialId = entry.trialId else { return }
    switch entry.kind {
    case .createRun:
      try await createRun(trialId: trialId, target: target, client: client, attempted: entry.attempts > 0)
    case .setTags:
      let run = try mirroredRun(trialId)
      let tags = (try? JSONDecoder().decode([String: String].self, from: Data((entry.payload ?? "{}").utf8))) ?? [:]
      for chunk in MLflowLimits.chunks(
        MLflowLimits.tags(tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }),
        of: MLflowLimits.paramsOrTagsPerBatch)
      {
        try await client.logBatch(runId: run.runId, tags: chunk)
      }
    case .endRun:
      let run = try mirroredRun(trialId)
      try await sendMetrics(of: run)
      guard let trial = try database.trial(id: trialId) else { return }
      try await client.logBatch(runId: run.runId, tags: MLflowLimits.tags(RunIdentity.endTags(of: trial)))
      try await client.endRun(
        runId: run.runId, status: RunIdentity.status(of: trial.state),
        endTime: Int64((trial.finishedAt ?? Date()).timeIntervalSince1970 * 1000))
      try database.markMirroredRunEnded(trialId: trialId)
    case .uploadArtifacts:
      let run = try mirroredRun(trialId)
      guard let trial = try database.trial(id: trialId) else { return }
      try await ArtifactUpload.upload(trial: trial, run: run, client: client)
    case .refusedMetrics:
      return
    case .registerModel:
      guard let id = entry.payload.flatMap(Int64.init), let version = try database.modelVersion(id: id) else { return }
      try await registerModel(version, run: try mirroredRun(trialId), client: client)
    }
  }

  private func createRun(trialId: Int64, target: MirrorTarget, client: MLflowClient, attempted: Bool) async throws {
    let experimentId = try await experimentId(of: target, client: client)
    guard let trial = try database.trial(id: trialId), let lineage = try database.runLineage(trialId: trialId),
      let study = try database.study(id: trial.studyId)
    else { return }
    let runKey = "\(target.storeKey)/\(trialId)"
    var run = try database.mirroredRun(trialId: trialId)
    if run == nil {
      // An earlier attempt may have created the run and lost the answer: find it by its key.
      var info: MLflowClient.RunInfo? = nil
      if attempted { info = try await client.findRun(experimentId: experimentId, tag: "hpod.run_key", equals: runKey) }
      if info == nil {
        info = try await client.createRun(
          experimentId: experimentId, name: RunIdentity.name(trial: trial, lineage: lineage),
          startTime: Int64(trial.createdAt.timeIntervalSince1970 * 1000),
          tags: MLflowLimits.tags(
            RunIdentity.tags(trial: trial, lineage: lineage, study: study) + [("hpod.run_key", runKey)]))
      }
      let created = MirroredRun(
        trialId: trialId, studyId: trial.studyId, runId: info!.run_id, artifactURI: info!.artifact_uri)
      try database.saveMirroredRun(created)
      run = created
    }
    let params = try database.params(trialId: trialId).map { ($0.name, $0.value) }
    let (shaped, truncated) = MLflowLimits.params(params)
    for chunk in MLflowLimits.chunks(shaped, of: MLflowLimits.paramsOrTagsPerBatch) {
      try await client.logBatch(runId: run!.runId, params: chunk)
    }
    if !truncated.isEmpty {
      try await client.logBatch(
        runId: run!.runId,
        tags: MLflowLimits.tags([
          (
            "hpod.truncated_params",
            "cut to \(MLflowLimits.paramValueLength) characters: \(truncated.joined(separator: ", "))"
          )
        ]))
    }
  }

  /// Sends the run's metric points the server does not have, in batches of at most 1000;
  /// each batch acknowledged moves the run's watermark.
  private func sendMetrics(of run: MirroredRun) async throws {
    let client = client(for: try target(of: run.studyId).orThrow().uri)
    while true {
      let batch = try database.unsentMetrics(trialId: run.trialId, limit: MLflowLimits.metricsPerBatch)
      guard let last = batch.last else { return }
      do {
        try await client.logBatch(runId: run.runId, metrics: batch.map(\.point))
      } catch let error as MLflowError where !error.isRetryable {
        // Refused points would block the run for ever: record why and go on without them.
        try database.recordRefusedMetrics(
          studyId: run.studyId, trialId: run.trialId, count: batch.count, error: error.description)
        logger.error("MLflow refused \(batch.count) metric points of trial id \(run.trialId): \(error)")
      }
      try database.markMetricsSent(trialId: run.trialId, through: last.sequence)
    }
  }

  private func registerModel(_ version: ModelVersion, run: MirroredRun, client: MLflowClient) async throws {
    try await client.createRegisteredModel(name: version.modelName)
    var remote = try database.mirroredModelVersion(id: version.id!)
    if remote == nil {
      let tagged = try await client.modelVersions(name: version.modelName, runId: run.runId).first {
        $0.tags?.contains { $0.key == "hpod.version" && $0.value == String(version.version) } ?? false
      }
      remote = tagged?.version
      if remote == nil {
        remote = try await client.createModelVersion(
          name: version.modelName, source: ArtifactUpload.source(of: version, run: run), runId: run.runId,
          tags: MLflowLimits.tags(RunIdentity.versionTags(version)),
          description: "Registered by hpod: met \(version.conditions)")
      }
      try database.saveMirroredModelVersion(id: version.id!, remoteVersion: remote!)
    }
    for alias in try database.modelAliases(named: version.modelName) {
      guard
        let aliased = try database.modelVersions(named: version.modelName).first(where: { $0.version == alias.version }
        ),
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
    targets[target.studyId] = nil
    return id
  }

  private func mirroredRun(_ trialId: Int64) throws -> MirroredRun {
    guard let run = try database.mirroredRun(trialId: trialId) else {
      throw MLflowError(
        kind: .refused, code: nil, message: "the trial's MLflow run was never created (see the refused createRun)")
    }
    return run
  }

  private func target(of studyId: Int64) -> MirrorTarget? {
    if let cached = targets[studyId], let cached { return cached }
    let target = try? database.mirrorTarget(studyId: studyId)
    targets[studyId] = target
    return target
  }

  private func client(for uri: String) -> MLflowClient {
    if let client = clients[uri] { return client }
    let client = MLflowClient(uri: uri, timeout: settings.requestTimeout)
    clients[uri] = client
    return client
  }

  private func sleep(_ duration: Duration, wakeable: Bool) async {
    let task = Task { try await Task.sleep(for: duration) }
    nap = task
    napIsWakeable = wakeable
    _ = await task.result
    nap = nil
  }

  private func interruptNap() {
    if napIsWakeable { nap?.cancel() }
  }
}

extension Optional {
  fileprivate func orThrow() throws -> Wrapped {
    guard let self else { throw MLflowError(kind: .refused, code: nil, message: "the study is not mirrored") }
    return self
  }
}
