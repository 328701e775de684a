import DidYouMean
import Foundation
import Logging
import SearchStrategies
import StudyModel
import Synchronization
import TrackingBridge

#if canImport(Glibc)
  import Glibc
#endif

/// Runs one trial from launch to its recorded outcome: builds its folder, argv and
/// environment, starts it, stores its metric points as they arrive, enforces its timeout and
/// records how it ended. Never throws: every failure becomes the trial's recorded reason.
struct TrialRun {
  let spec: StudySpec
  /// The spec's trial command (`trial.command`), with its placeholders.
  let command: [String]
  let study: StudyRecord
  let home: HpodHome
  let database: AppDatabase
  let executor: any TrialExecutor
  let stopper: EarlyStopper?
  /// The population of a population-based training study; nil for other studies.
  let population: PopulationSchedule?
  let slots: TrialSlots?
  /// The GPUs and CPUs local trials are placed on; nil: no placement.
  let resources: ResourcePool?
  /// Where the trial is tracked besides the store: its environment's MLflow variables, and
  /// the points it logs there, judged with its reported ones.
  let tracking: (any TrackingSink)?
  let emit: @Sendable (StudyEvent) -> Void
  /// Where a trial whose outcome could not be recorded is reported.
  let logger: Logger
  /// Holds the study while the store cannot be written.
  let outage: StoreOutage
  /// Creates, starts and finishes the trial's row, and publishes those steps.
  let lifecycle: TrialLifecycle
  /// hpod's environment with the spec's `env` applied, computed once per study.
  let baseEnvironment: [String: String]

  init(
    spec: StudySpec, command: [String], study: StudyRecord, home: HpodHome, database: AppDatabase,
    executor: any TrialExecutor,
    stopper: EarlyStopper? = nil, population: PopulationSchedule? = nil, slots: TrialSlots? = nil,
    resources: ResourcePool? = nil,
    tracking: (any TrackingSink)? = nil,
    outage: StoreOutage, logger: Logger = Logger(label: "hpod.runner"),
    emit: @escaping @Sendable (StudyEvent) -> Void
  ) {
    self.logger = logger
    self.outage = outage
    self.tracking = tracking
    self.stopper = stopper
    self.population = population
    self.slots = slots
    self.resources = resources
    self.spec = spec
    self.command = command
    self.study = study
    self.home = home
    self.database = database
    self.executor = executor
    self.emit = emit
    lifecycle = TrialLifecycle(database: database, outage: outage, emit: emit)
    baseEnvironment = ProcessInfo.processInfo.environment.merging(spec.trial.environment) { _, new in new }
  }

  func run(_ trial: TrialRecord, configuration: Configuration, registry: RunningTrials) async -> TrialRecord {
    var folder: CheckpointFolder
    do {
      folder = try await checkpointFolder(of: trial)
    } catch {
      let reason = "cannot read what the trial's earlier attempts saved: \(StoreOutage.describe(error))"
      return await finish(trial.id!, .init(state: outage.isStopped ? .cancelled : .failed, reason: reason))
    }
    switch await prepareFolder(trial, configuration: configuration, checkpoint: folder) {
    case .ended(let record): return record
    case .ready(let prepared): folder = prepared
    }
    guard let ticket = await takeSlot(trial.id!, registry: registry) else {
      return await finish(trial.id!, .init(state: .cancelled, reason: registry.stopReason ?? "stopped before it ran"))
    }
    let result = await place(trial, configuration: configuration, checkpoint: folder, registry: registry)
    if let ticket { slots?.release(ticket) }
    return result
  }

  /// Where the trial's files go.
  func workspace(of trial: TrialRecord) -> TrialWorkspace {
    executor.workspace(
      studyId: study.id!, trialNumber: trial.number,
      defaultDirectory: home.runDirectory(studyId: study.id!, trialNumber: trial.number))
  }

  /// Waits for one of the daemon's trial slots, unless the study is stopped first (cancel,
  /// shutdown): `.some(nil)` without a limit, nil when stopped while waiting.
  private func takeSlot(_ trialId: Int64, registry: RunningTrials) async -> TrialSlots.Ticket?? {
    guard let slots else { return .some(nil) }
    let ticket = slots.ticket()
    registry.add(trialId, stop: { _ in slots.withdraw(ticket) }, kill: { slots.withdraw(ticket) })
    let granted = await slots.acquire(ticket)
    registry.remove(trialId)
    guard granted else { return nil }
    return .some(ticket)
  }

  /// Waits for the trial's GPUs and CPUs (local trials; a cluster places its jobs itself),
  /// then runs it with its devices. A study stopped while it waits withdraws the wait.
  private func place(
    _ trial: TrialRecord, configuration: Configuration, checkpoint: CheckpointFolder, registry: RunningTrials
  ) async -> TrialRecord {
    let trialId = trial.id!
    var placement: ResourcePool.Placement?
    if let pool = resources, !executor.placesTrialsItself {
      registry.add(trialId, stop: { _ in pool.withdraw(trialId) }, kill: { pool.withdraw(trialId) })
      do {
        placement = try await pool.acquire(spec.resources(for: trial.tier), for: trialId)
      } catch {
        registry.remove(trialId)
        return await finish(trialId, .init(state: .failed, reason: error.description))
      }
      registry.remove(trialId)
      pool.forgetWithdrawal(trialId)
    }
    let result: TrialRecord
    if let reason = registry.stopReason {
      // Stopped while waiting for a slot or its devices: never started.
      result = await finish(trialId, .init(state: .cancelled, reason: reason))
    } else {
      let devices = placement.map { placement in resources!.gpus.isEmpty ? nil : placement.gpus } ?? nil
      result = await launchAndFollow(
        trial, configuration: configuration, devices: devices, checkpoint: checkpoint, registry: registry)
    }
    if let placement { resources?.release(placement) }
    return result
  }

  /// Follows a trial a previous hpod started and the executor re-adopted, to its end. It is
  /// running already: it takes its slot without waiting for one to free up.
  func adopt(_ trial: TrialRecord, _ process: any RunningTrial, registry: RunningTrials) async -> TrialRecord {
    let ticket = slots?.ticket()
    if let ticket { _ = await slots?.acquire(ticket) }
    let workspace = TrialWorkspace(directory: trial.runDirectory ?? "")
    let folder: CheckpointFolder?
    do { folder = try await checkpointFolder(of: trial) } catch {
      logger.warning(
        "cannot read the checkpoints of trial \(trial.number): \(error); its new ones are not kept in count")
      folder = nil
    }
    let result = await follow(trial, process, workspace: workspace, checkpoint: folder, registry: registry)
    if let ticket { slots?.release(ticket) }
    return result
  }

  /// `devices`: the GPUs placed for the trial, nil when hpod places none (no GPUs known).
  private func launchAndFollow(
    _ trial: TrialRecord, configuration: Configuration, devices: [String]?, checkpoint: CheckpointFolder,
    registry: RunningTrials
  ) async -> TrialRecord {
    let trialId = trial.id!
    let workspace = workspace(of: trial)
    let trackingEnvironment = await tracking?.environment(for: trial) ?? [:]
    var launch = makeLaunch(
      trial, configuration: configuration, tierValues: spec.tiers[trial.tier] ?? [:], workspace: workspace,
      checkpoint: checkpoint, trackingEnvironment: trackingEnvironment)
    // A trial that declared no GPUs sees none, rather than every device of the machine.
    if let devices { launch.environment["CUDA_VISIBLE_DEVICES"] = devices.joined(separator: ",") }
    // A cluster whose controller does not answer is the machine's problem too: the study waits
    // for it. A stop ends the wait: the trial never started.
    let stopped = { registry.stopReason != nil }

    let process: any RunningTrial
    do {
      process = try await outage.retrying("submitting trial \(trial.number)", giveUp: stopped) {
        try await executor.launch(launch)
      }
    } catch {
      if let reason = registry.stopReason { return await finish(trialId, .init(state: .cancelled, reason: reason)) }
      return await finish(trialId, .init(state: .failed, reason: (error as? TrialLaunchError)?.message ?? "\(error)"))
    }
    // Saved before anything else, so a restarted hpod finds a job that is still queued.
    do {
      let write = database.settingHandle(trialId: trialId, process.handle.json, runDirectory: workspace.directory)
      try await outage.retrying("saving where trial \(trial.number) runs") { try await database.perform(write) }
    } catch {
      // A trial the store cannot find again would be run again blindly: end it.
      process.kill()
      _ = await process.exit()
      return await finish(trialId, .init(state: .failed, reason: "cannot record where the trial runs: \(error)"))
    }
    return await follow(trial, process, workspace: workspace, checkpoint: checkpoint, registry: registry)
  }

  /// Records the trial's start, stores its metric points as they arrive, enforces its
  /// timeout from the moment it runs and records how it ended.
  private func follow(
    _ trial: TrialRecord, _ process: any RunningTrial, workspace: TrialWorkspace, checkpoint: CheckpointFolder?,
    registry: RunningTrials
  ) async -> TrialRecord {
    let trialId = trial.id!
    let stopCause = Mutex<StopCause?>(nil)
    let grace = spec.trial.stopGracePeriod
    let stop: @Sendable (StopCause) -> Void = { cause in
      let first = stopCause.withLock { current in
        defer { if current == nil { current = cause } }
        return current == nil
      }
      if first { process.stop(gracePeriod: grace) }
    }
    registry.add(
      trialId, stop: { stop(.interrupted($0)) }, kill: { process.kill() }, detach: { process.detach() })
    defer {
      registry.remove(trialId)
      outage.executor(nil, trialId: trialId)
    }

    // The timeout's timer runs on a Dispatch queue, not in the task pool, so it fires on time
    // even while GP suggestions of other studies keep the pool's threads busy.
    var timeoutTimer: DispatchWorkItem?
    defer { timeoutTimer?.cancel() }
    func armTimeout(runningSince: Date) {
      guard let timeout = spec.trial.timeout else { return }
      let timer = DispatchWorkItem { if !process.hasExited { stop(.timeout) } }
      let (seconds, attoseconds) = timeout.components
      let left = max(0, Double(seconds) + Double(attoseconds) / 1e18 - Date().timeIntervalSince(runningSince))
      DispatchQueue.global().asyncAfter(deadline: .now() + left, execute: timer)
      timeoutTimer = timer
    }
    if trial.state == .running { armTimeout(runningSince: trial.startedAt ?? Date()) }

    var collector = MetricCollector(trialId: trialId, objective: spec.objective.metric)
    // The rule sees one curve per configuration, known by its place among the configurations
    // (Hyperband's brackets): a re-run continues its first attempt's.
    let first = checkpoint?.attempts.first ?? trial
    let curve = (id: first.id ?? trialId, number: checkpoint?.ordinal ?? first.number)
    let judged = trial.tier == spec.searchTier ? stopper : nil  // full trainings run to the end
    let members = trial.tier == spec.searchTier ? population : nil
    members?.join(trialId: trialId, number: trial.number, from: checkpoint?.resumesFrom?.step ?? 0)
    // The donor's checkpoint copied when this member was exploited: its replacement continues it.
    var donorCheckpoint: CheckpointRecord?
    func judge(_ points: [MetricPoint]) async {
      if let judged, let (step, reason) = judged.judge(trialId: curve.id, number: curve.number, points: points) {
        stop(judged.cause(step: step, reason: reason))
      }
      if let exploit = members?.report(trialId: trialId, points: points) {
        stop(.exploited(donorNumber: exploit.donorNumber, step: exploit.step, reason: exploit.reason))
        if case .exploited = stopCause.withLock({ $0 }) {
          donorCheckpoint = await copyDonorCheckpoint(exploit, for: first)
        }
      }
    }
    let cutByRule = { stopCause.withLock { $0?.prune != nil } }
    let emit = emit
    let metricsEvents = MetricsThrottle { step, values in
      emit(.trialMetrics(trialId: trialId, number: trial.number, step: step, values: values))
    }
    // Checkpoint files (`checkpoint.files`) recorded by this attempt.
    var checkpointFilesSeen: Set<String> = []
    if trial.state == .running {
      do { collector.resume(after: try database.metrics(trialId: trialId)) } catch {
        logger.warning("cannot read the steps trial \(trial.number) reported before: \(error)")
      }
    } else if let from = checkpoint?.resumesFrom {
      await continueHistory(of: trial, from: from, into: &collector)
    }
    let tracking = tracking
    let inputs = Self.merge(process.output, tracking?.loggedMetrics(trialId: trialId)) {
      tracking?.endLoggedMetrics(trialId: trialId)
    }
    defer {
      inputs.pumps.cancel()
      tracking?.endLoggedMetrics(trialId: trialId)
    }
    for await input in inputs.stream {
      let output: TrialOutput
      switch input {
      case .output(let value): output = value
      case .logged(let points):
        // Stored by the API already: they count for the objective, the rule and the view.
        guard !cutByRule() else { continue }
        collector.take(points)
        metricsEvents.add(step: collector.lastStep, values: collector.latestOfBatch(points))
        await judge(points)
        continue
      }
      let (lines, handle): ([String], TrialHandle?)
      switch output {
      case .started(let handle, let since):
        guard trial.state != .running else { continue }
        do {
          _ = try await lifecycle.start(trial, handle: handle, runDirectory: workspace.directory, at: since)
        } catch {
          // A trial the store does not know is running would be run again blindly: stop it.
          process.kill()
          _ = await process.exit()
          return await finish(trialId, .init(state: .failed, reason: "cannot record the trial's start: \(error)"))
        }
        armTimeout(runningSince: since)
        continue
      case .lines(let reported, let position):
        (lines, handle) = (reported, position)
      case .waiting(let reason):
        await noteWaiting(trial, reason)
        continue
      case .unreachable(let reason):
        outage.executor(reason, trialId: trialId)
        continue
      }
      // A trial a rule stopped at a step ended there: what it prints until the signal lands
      // (a step or a checkpoint more) is not its result, and its pause resumes from that step.
      guard !cutByRule() else { continue }
      let points = collector.ingest(lines)
      let saved =
        collector.takeCheckpoints()
        + (await checkpointFiles(in: checkpoint, after: collector, recorded: &checkpointFilesSeen))
      // While the store is full the loop waits here; the trial's further lines wait in its
      // output stream (or its file), and nothing it printed is dropped.
      if !points.isEmpty || handle != nil {
        do {
          let write = database.appendingMetrics(points, trialId: trialId, handle: handle?.json)
          try await outage.retrying("saving the metrics of trial \(trial.number)") {
            try await database.perform(write)
          }
        } catch {
          collector.unsaved(points.count, error)
        }
      }
      // A checkpoint is recorded after the steps it covers: an hpod killed in between resumes
      // from the checkpoint before it, and replays a step rather than losing one.
      if !saved.isEmpty, let checkpoint { await record(saved, of: trial, in: checkpoint) }
      guard !points.isEmpty else { continue }
      metricsEvents.add(step: collector.lastStep, values: collector.latestOfBatch(points))
      await judge(points)
    }
    metricsEvents.flush()
    let exit = await process.exit()
    // Every line is in: files saved with the last steps are checkpoints now.
    let lastFiles = await checkpointFiles(in: checkpoint, after: collector, recorded: &checkpointFilesSeen)
    if !lastFiles.isEmpty, let checkpoint { await record(lastFiles, of: trial, in: checkpoint) }
    if exit == .detached {
      logger.info("left trial \(trial.number) running (\(process.handle)); the next hpod adopts it")
      return (try? database.trial(id: trialId)) ?? trial
    }
    let cause = stopCause.withLock { $0 }
    var outcome = TrialVerdict(objective: spec.objective.metric, timeout: spec.trial.timeout).outcome(
      exit: exit, stopCause: cause, reports: collector.reports, diagnosticTail: { process.diagnosticTail() },
      trackingRefusal: { trackingRefusal(trialId) })
    if let (rule, step, paused) = cause?.prune {
      var tags = [HpodTag.pruneRule: rule, HpodTag.pruneStep: String(step)]
      if paused { tags[HpodTag.pausedAtRung] = String(step) }
      if case .exploited(let donor, _, _) = cause {
        tags[HpodTag.pbtReplacedBy] = String(donor)
        if let donorCheckpoint {
          tags[HpodTag.pbtReplacementCheckpoint] = donorCheckpoint.name
          tags[HpodTag.pbtReplacementCheckpointStep] = String(donorCheckpoint.step)
        }
      }
      do {
        try await outage.retrying("tagging pruned trial \(trial.number)") {
          try await BlockingWork.run { [database, tags] in try database.setTags(trialId: trialId, tags) }
        }
      } catch {
        outcome.reason = (outcome.reason ?? "") + " (its prune tags could not be saved: \(error))"
      }
    }
    stopper?.finish(trialId: curve.id, completed: outcome.state == .completed)
    members?.leave(trialId: trialId)
    return await finish(trialId, outcome)
  }

  /// What hpod's MLflow API last refused the trial's own mlflow client, if anything.
  private func trackingRefusal(_ trialId: Int64) -> String? {
    do {
      return try database.tags(trialId: trialId)[HpodTag.trackingRefusal]
    } catch {
      logger.warning("could not read the tags of trial id \(trialId): \(error)")
      return nil
    }
  }

  /// Records the outcome, waiting out a store that cannot be written.
  func finish(_ trialId: Int64, _ outcome: AppDatabase.TrialOutcome) async -> TrialRecord {
    // Only a forced stop or an error no waiting mends fails here: the trial stays unfinished
    // in the store and runs again on resume.
    let record: TrialRecord?
    do {
      record = try await lifecycle.finish(trialId, outcome)
    } catch {
      logger.error(
        "cannot record that trial id \(trialId) \(outcome.state.rawValue): \(error); it stays unfinished in the store and runs again when the study resumes"
      )
      record = nil
    }
    return record
      ?? TrialRecord(studyId: study.id!, number: -1, tier: .quickTest, state: outcome.state, paramsJSON: "{}")
  }
}
