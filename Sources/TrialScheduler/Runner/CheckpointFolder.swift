import Foundation
import TrackingBridge

/// Where a trial saves its checkpoints (`HPOD_CHECKPOINT_DIR`): a folder of its first
/// attempt's, so every re-run of the configuration — a retry after a crash, a run again after
/// the daemon stopped, a lost Slurm job — finds what the attempts before it saved. On a
/// cluster it is on the executor's shared folder, like the trial's own.
struct CheckpointFolder: Sendable {
  var path: String
  /// Every attempt of the trial's configuration and tier, this one last.
  var attempts: [TrialRecord]
  /// The last checkpoint an earlier attempt reported (and hpod has not deleted): this attempt
  /// resumes from it.
  var resumesFrom: CheckpointRecord?
  /// Whether an earlier attempt left anything in the folder.
  var resumed: Bool
  /// A full training that continues its quick test (`promotion.continue_training`), or a
  /// population-based training member that continues another's checkpoint: the folder it
  /// continues, copied into this one before the trial starts.
  var seed: String?
  /// The configuration's place among its tier's (`AppDatabase.firstAttemptsBefore`): the
  /// number early-stopping rules know it by, the same however many re-runs came before it.
  var ordinal = 0
  /// Whether only the checkpoint it resumes from is copied from `seed`: a member still
  /// training owns the rest of its folder (and deletes old checkpoints as it goes, `keep`).
  var seedsCheckpointOnly = false

  static func path(executor: any TrialExecutor, home: HpodHome, studyId: Int64, firstAttempt: Int) -> String {
    let workspace = executor.workspace(
      studyId: studyId, trialNumber: firstAttempt,
      defaultDirectory: home.runDirectory(studyId: studyId, trialNumber: firstAttempt))
    return "\(workspace.directory)/checkpoint"
  }

  /// Reads what the trial's earlier attempts left: blocking (the store and the folder). With
  /// `continuing`, a trial with a source (a full training's quick test, a population member's
  /// donor) none of whose attempts saved a checkpoint starts from its source's last one.
  static func of(
    _ trial: TrialRecord, executor: any TrialExecutor, home: HpodHome, database: AppDatabase, continuing: Bool
  ) throws -> CheckpointFolder {
    let attempts = try database.attempts(endingWith: trial)
    let path = path(executor: executor, home: home, studyId: trial.studyId, firstAttempt: attempts[0].number)
    let earlier = attempts.dropLast().compactMap(\.id)
    let reported = earlier.isEmpty ? [] : try database.checkpoints(trialIds: earlier)
    let left = (try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty == false
    var folder = CheckpointFolder(
      path: path, attempts: attempts, resumesFrom: reported.last { !$0.freed }, resumed: !earlier.isEmpty && left)
    folder.ordinal = try database.firstAttemptsBefore(attempts[0])
    if continuing, folder.resumesFrom == nil, trial.tier != .fullTraining,
      let (seed, checkpoint) = try DonorCheckpoint.continued(
        by: attempts, executor: executor, home: home, database: database)
    {
      // A population member's replacement: the donor's checkpoint its exploit copied.
      (folder.seed, folder.seedsCheckpointOnly, folder.resumesFrom, folder.resumed) = (seed, true, checkpoint, true)
    } else if continuing, folder.resumesFrom == nil, let sourceTrial = try continued(by: trial, database: database) {
      let sourceAttempts = try database.attempts(endingWith: sourceTrial)
      if let last = try database.checkpoints(trialIds: sourceAttempts.compactMap(\.id)).last(where: { !$0.freed }) {
        folder.seed = Self.path(
          executor: executor, home: home, studyId: trial.studyId, firstAttempt: sourceAttempts[0].number)
        folder.seedsCheckpointOnly = trial.tier != .fullTraining
        folder.resumesFrom = last
        folder.resumed = true
      }
    }
    return folder
  }

  /// The trial whose checkpoint `trial` continues: a full training's quick test (its source
  /// trial), a population member's donor (its `hpod.pbt.donor` tag).
  static func continued(by trial: TrialRecord, database: AppDatabase) throws -> TrialRecord? {
    if trial.tier == .fullTraining { return try trial.sourceTrialId.flatMap { try database.trial(id: $0) } }
    guard let id = trial.id, let donor = try database.tags(trialId: id)[HpodTag.pbtDonor].flatMap({ Int($0) }) else {
      return nil
    }
    return try database.trial(studyId: trial.studyId, number: donor)
  }

  /// Copies what the trial continues into its empty folder: the quick test's checkpoints, or
  /// the donor's one. False when the donor deleted that checkpoint before it could be copied
  /// (it trained on and `keep` dropped it): read the folder again for the donor's newer one.
  func copySeed() throws -> Bool {
    guard let seed else { return true }
    let files = FileManager.default
    guard (try? files.contentsOfDirectory(atPath: path))?.isEmpty ?? true else { return true }
    if seedsCheckpointOnly, let name = resumesFrom?.name {
      guard files.fileExists(atPath: "\(seed)/\(name)") else { return false }
      do {
        try files.copyItem(atPath: "\(seed)/\(name)", toPath: "\(path)/\(name)")
      } catch  where !files.fileExists(atPath: "\(seed)/\(name)") {
        try? files.removeItem(atPath: "\(path)/\(name)")  // a partial copy of what vanished
        return false
      }
      return true
    }
    for entry in try files.contentsOfDirectory(atPath: seed) {
      try files.copyItem(atPath: "\(seed)/\(entry)", toPath: "\(path)/\(entry)")
    }
    return true
  }

  /// Without what it continues: the trial trains from the start.
  var unseeded: CheckpointFolder {
    var folder = self
    (folder.seed, folder.resumesFrom, folder.resumed) = (nil, nil, false)
    return folder
  }

  /// A checkpoint's name is one entry of the folder: no path, nothing hidden above it.
  static func isValidName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.count <= 255 && name != "." && name != ".."
      && !name.contains(where: { $0 == "/" || $0 == "\0" || $0.isNewline })
  }

  /// The trial's variables and `{checkpoint_dir}`.
  var environment: [String: String] {
    var variables = ["HPOD_CHECKPOINT_DIR": path]
    if resumed { variables["HPOD_RESUMED"] = "1" }
    if let resumesFrom {
      variables["HPOD_CHECKPOINT"] = "\(path)/\(resumesFrom.name)"
      variables["HPOD_CHECKPOINT_STEP"] = String(resumesFrom.step)
    }
    return variables
  }
}

extension CheckpointFolder {
  /// A configuration's folder no attempt will use again: it was pruned, or failed with no
  /// re-run left. A completed one keeps its folder (a full training may continue from it); a
  /// timed-out one too (its user may resume it with a longer timeout).
  static func isUnused(_ chain: TrialHistory.Chain, retries: Int) -> Bool {
    switch chain.latest.state {
    case .pruned: true
    case .failed: !TrialHistory.needsRerun(chain, retries: retries)
    default: false
    }
  }
}

extension StudyRunner {
  /// Deletes the checkpoint folder of a configuration no attempt will use again
  /// (`checkpoint.free: unused`), and marks its checkpoints freed.
  func freeCheckpoints(of chain: TrialHistory.Chain) async {
    let path = CheckpointFolder.path(
      executor: executor, home: home, studyId: chain.root.studyId, firstAttempt: chain.root.number)
    let copy = DonorCheckpoint.path(
      executor: executor, home: home, studyId: chain.root.studyId, firstAttempt: chain.root.number)
    let (database, attempts) = (database, chain.attempts.compactMap(\.id))
    do {
      try await BlockingWork.run {
        for folder in [path, copy] where FileManager.default.fileExists(atPath: folder) {
          try FileManager.default.removeItem(atPath: folder)
        }
        try database.markFreed(checkpointIds: try database.checkpoints(trialIds: attempts).compactMap(\.id))
      }
    } catch {
      logger.warning(
        "cannot free the checkpoint folder \(path) of trial \(chain.latest.number): \(error)",
        metadata: ["study": "\(spec.name)"])
    }
  }
}
