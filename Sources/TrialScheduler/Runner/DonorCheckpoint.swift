import Foundation
import TrackingBridge

/// Population-based training: the donor's checkpoint a replacement continues, copied the
/// moment the exploit picks the donor. The replacement starts only once the replaced member
/// has stopped and a slot is free; by then the donor may have trained on (and deleted the
/// picked checkpoint, `checkpoint.keep`) or ended, so a copy made at the replacement's start
/// would continue another checkpoint than the one the ranking chose.
enum DonorCheckpoint {
  /// Where the copy waits for the replacement: beside the replaced member's checkpoint folder
  /// (`pbt-copy` in its trial folder), freed with it.
  static func path(executor: any TrialExecutor, home: HpodHome, studyId: Int64, firstAttempt: Int) -> String {
    let workspace = executor.workspace(
      studyId: studyId, trialNumber: firstAttempt,
      defaultDirectory: home.runDirectory(studyId: studyId, trialNumber: firstAttempt))
    return "\(workspace.directory)/pbt-copy"
  }

  /// Copies the donor's latest checkpoint into `destination` (emptied first) and returns it;
  /// blocking. A donor that deletes it in between has saved a newer one, which is copied
  /// instead. nil when the donor has no checkpoint to give.
  static func pin(
    donor: TrialRecord, into destination: String, executor: any TrialExecutor, home: HpodHome, database: AppDatabase
  ) throws -> CheckpointRecord? {
    let files = FileManager.default
    let attempts = try database.attempts(endingWith: donor)
    let folder = CheckpointFolder.path(
      executor: executor, home: home, studyId: donor.studyId, firstAttempt: attempts[0].number)
    if files.fileExists(atPath: destination) { try files.removeItem(atPath: destination) }
    try files.createDirectory(atPath: destination, withIntermediateDirectories: true)
    for _ in 0..<3 {
      guard let checkpoint = try latest(of: attempts, database: database) else { return nil }
      let (source, copy) = ("\(folder)/\(checkpoint.name)", "\(destination)/\(checkpoint.name)")
      do {
        try files.copyItem(atPath: source, toPath: copy)
        return checkpoint
      } catch  where !files.fileExists(atPath: source) {
        // Deleted while it was copied: drop the partial copy and take the newer one.
        if files.fileExists(atPath: copy) { try files.removeItem(atPath: copy) }
      }
    }
    return nil
  }

  /// The donor's last checkpoint not deleted, as a record of the attempt that was ranked (whose
  /// history holds every step up to it). A donor that saved none since it began continues
  /// the checkpoint it copied itself, which lies in its folder under the same name.
  static func latest(of attempts: [TrialRecord], database: AppDatabase) throws -> CheckpointRecord? {
    guard let ranked = attempts.last?.id, let first = attempts.first?.id else { return nil }
    if let own = try database.checkpoints(trialIds: attempts.compactMap(\.id)).last(where: { !$0.freed }) {
      return CheckpointRecord(trialId: ranked, name: own.name, step: own.step)
    }
    let tags = try database.tags(trialId: first)
    guard let name = tags[HpodTag.pbtCheckpoint], let step = tags[HpodTag.pbtCheckpointStep].flatMap({ Int($0) })
    else { return nil }
    return CheckpointRecord(trialId: ranked, name: name, step: step)
  }

  /// What a replacement continues: the copy its exploit made, in the replaced member's
  /// `pbt-copy`, as a checkpoint of the donor. nil for a trial that is no replacement, or one
  /// made before copies were pinned (it copies the donor's latest when it starts).
  static func continued(
    by attempts: [TrialRecord], executor: any TrialExecutor, home: HpodHome, database: AppDatabase
  ) throws -> (seed: String, checkpoint: CheckpointRecord)? {
    guard let first = attempts.first, let id = first.id else { return nil }
    let tags = try database.tags(trialId: id)
    guard let name = tags[HpodTag.pbtCheckpoint], CheckpointFolder.isValidName(name),
      let step = tags[HpodTag.pbtCheckpointStep].flatMap({ Int($0) }),
      let parent = try tags[HpodTag.pbtParent].flatMap({ Int($0) }).flatMap({
        try database.trial(studyId: first.studyId, number: $0)
      }),
      let donor = try tags[HpodTag.pbtDonor].flatMap({ Int($0) }).flatMap({
        try database.trial(studyId: first.studyId, number: $0)
      }),
      let donorId = donor.id
    else { return nil }
    let parentFirst = try database.attempts(endingWith: parent)[0]
    let seed = path(executor: executor, home: home, studyId: first.studyId, firstAttempt: parentFirst.number)
    return (seed, CheckpointRecord(trialId: donorId, name: name, step: step))
  }
}

extension TrialRun {
  /// Copies the checkpoint of the donor `exploit` picked for the member whose first attempt
  /// is `member`, into the member's `pbt-copy`; nil (the replacement then copies the donor's
  /// latest when it starts) when the donor has none or the copy fails.
  func copyDonorCheckpoint(_ exploit: PopulationSchedule.Exploit, for member: TrialRecord) async -> CheckpointRecord? {
    let (executor, home, database) = (executor, home, database)
    let destination = DonorCheckpoint.path(
      executor: executor, home: home, studyId: member.studyId, firstAttempt: member.number)
    do {
      let copied = try await BlockingWork.run { () throws -> CheckpointRecord? in
        guard let donor = try database.trial(id: exploit.donorId) else { return nil }
        return try DonorCheckpoint.pin(
          donor: donor, into: destination, executor: executor, home: home, database: database)
      }
      if copied == nil {
        logger.warning(
          "trial \(exploit.donorNumber) has no checkpoint to copy for the member it replaces; the replacement copies its latest when it starts"
        )
      }
      return copied
    } catch {
      logger.warning(
        "cannot copy the checkpoint of trial \(exploit.donorNumber) into \(destination): \(error); the replacement copies its latest when it starts"
      )
      return nil
    }
  }
}
