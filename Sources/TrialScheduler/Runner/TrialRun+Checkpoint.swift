import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

// The trial's folders before it starts, the checkpoints it saves, the history a resumed
// attempt continues, and the reported checkpoints hpod keeps (`checkpoint.keep`).
extension TrialRun {
  enum PreparedFolder {
    /// The folder is ready, with the checkpoint folder as it was seeded.
    case ready(CheckpointFolder)
    /// The trial could not start: its finished row.
    case ended(TrialRecord)
  }

  /// Makes the trial's folder and parameter file before it waits for a slot, so a folder that
  /// cannot be made holds none of the daemon's slots. Such a folder is the machine's problem,
  /// not the trial's: the study waits for it (paused, with the reason) rather than burning its
  /// budget on trials that cannot start; a stop ends the wait.
  func prepareFolder(_ trial: TrialRecord, configuration: Configuration, checkpoint: CheckpointFolder) async
    -> PreparedFolder
  {
    let launch = makeLaunch(
      trial, configuration: configuration, tierValues: spec.tiers[trial.tier] ?? [:], workspace: workspace(of: trial),
      checkpoint: checkpoint, trackingEnvironment: [:])
    let (executor, home, database) = (executor, home, database)
    do {
      let seeded = try await outage.retrying("creating the folder of trial \(trial.number)") {
        try await BlockingWork.run { () throws -> CheckpointFolder? in
          try executor.prepare(launch)
          do {
            try FileManager.default.createDirectory(atPath: checkpoint.path, withIntermediateDirectories: true)
            // A donor still training may drop the checkpoint before it is copied: take its newer one.
            var folder = checkpoint
            for _ in 0..<3 {
              if try folder.copySeed() { return folder }
              folder = try CheckpointFolder.of(
                trial, executor: executor, home: home, database: database, continuing: true)
            }
            return nil
          } catch {
            throw WorkspaceError(
              message: "cannot prepare the checkpoint folder \(checkpoint.path): \(error.localizedDescription)")
          }
        }
      }
      guard let seeded else {
        logger.warning(
          "trial \(trial.number) trains from the start: the checkpoint it was to continue was deleted three times before it could be copied"
        )
        return .ready(checkpoint.unseeded)
      }
      return .ready(seeded)
    } catch {
      let reason = "cannot prepare the trial's folder \(launch.workspace.directory): \(StoreOutage.describe(error))"
      return .ended(await finish(trial.id!, .init(state: outage.isStopped ? .cancelled : .failed, reason: reason)))
    }
  }

  func checkpointFolder(of trial: TrialRecord) async throws -> CheckpointFolder {
    let (executor, home, database) = (executor, home, database)
    let continuing =
      trial.tier == .fullTraining ? spec.promotion?.continueTraining ?? false : spec.search.algorithm == .pbt
    return try await BlockingWork.run {
      try CheckpointFolder.of(trial, executor: executor, home: home, database: database, continuing: continuing)
    }
  }

  /// A resumed attempt starts with the earlier attempt's points up to the step of the
  /// checkpoint it resumes from, and continues its steps after it.
  func continueHistory(of trial: TrialRecord, from checkpoint: CheckpointRecord, into collector: inout MetricCollector)
    async
  {
    let trialId = trial.id!
    do {
      let write = database.copyingMetrics(from: checkpoint.trialId, to: trialId, upToStep: checkpoint.step)
      try await outage.retrying("continuing the history of trial \(trial.number)") {
        _ = try await database.perform(write)
      }
      let store = database
      collector.resume(after: try await BlockingWork.run { try store.metrics(trialId: trialId) })
    } catch {
      logger.warning(
        "trial \(trial.number) resumes from checkpoint \(checkpoint.name) (step \(checkpoint.step)) without the steps before it: \(error)"
      )
    }
    collector.continueAfter(step: checkpoint.step)
  }

  /// The checkpoint files (`checkpoint.files`) in the trial's folder that are not in
  /// `recorded` yet and whose steps the collector has taken in; `recorded` grows by them.
  func checkpointFiles(in folder: CheckpointFolder?, after collector: MetricCollector, recorded: inout Set<String>)
    async -> [(name: String, step: Int)]
  {
    guard let files = spec.checkpoint.files, let folder else { return [] }
    let path = folder.path
    let names: [String]
    do {
      names = try await BlockingWork.run { try FileManager.default.contentsOfDirectory(atPath: path) }
    } catch {
      // A folder the trial has not written yet holds no checkpoint.
      return []
    }
    let found = files.found(
      in: names, after: collector.resumedAfter, upTo: collector.lastStep, recorded: recorded)
    recorded.formUnion(found.map(\.name))
    return found
  }

  /// Records checkpoints the trial reported; with `checkpoint.keep`, deletes from its folder
  /// the configuration's older ones beyond that many.
  func record(_ saved: [(name: String, step: Int)], of trial: TrialRecord, in folder: CheckpointFolder) async {
    let trialId = trial.id!
    do {
      for (name, step) in saved {
        let write = database.recordingCheckpoint(CheckpointRecord(trialId: trialId, name: name, step: step))
        _ = try await outage.retrying("recording a checkpoint of trial \(trial.number)") {
          try await database.perform(write)
        }
      }
      guard let keep = spec.checkpoint.keep else { return }
      let (store, path) = (database, folder.path)
      let attempts = folder.attempts.compactMap(\.id)
      try await BlockingWork.run {
        let live = try store.checkpoints(trialIds: attempts).filter { !$0.freed }
        // A name reported again is one file: only its latest report keeps it.
        let kept = Set(live.suffix(keep).map(\.name))
        let older = live.dropLast(keep)
        for checkpoint in older where !kept.contains(checkpoint.name) {
          let file = "\(path)/\(checkpoint.name)"
          if FileManager.default.fileExists(atPath: file) { try FileManager.default.removeItem(atPath: file) }
        }
        try store.markFreed(checkpointIds: older.compactMap(\.id))
      }
    } catch {
      logger.warning("cannot keep the checkpoints of trial \(trial.number) in count: \(error)")
    }
  }
}
