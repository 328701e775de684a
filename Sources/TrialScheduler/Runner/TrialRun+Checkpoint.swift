import Foundation
import TrackingBridge

// The checkpoints a trial saves: its folder, the history a resumed attempt continues, and
// the reported checkpoints hpod keeps (`checkpoint.keep`).
extension TrialRun {
  func checkpointFolder(of trial: TrialRecord) async throws -> CheckpointFolder {
    let (executor, home, database) = (executor, home, database)
    let continuing = spec.promotion?.continueTraining ?? false
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
