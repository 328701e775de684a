import Foundation
import GRDB
import Logging

// A run's note written on the tracking server, read back into hpod.
extension MLflowMirror {
  /// When a mirrored trial ends, a note its script or a user set on the server's run
  /// (`mlflow.note.content`: the trial logged to that server directly) becomes the trial's
  /// note, unless hpod has one already (hpod's is what the server was sent). Best effort: a
  /// server that cannot answer now leaves the note where it is, and the run ends regardless.
  func readBackNote(of run: MirroredRun, trialId: Int64, client: MLflowClient) async {
    do {
      guard try database.trialNote(trialId: trialId) == nil,
        let remote = try await client.runTag(runId: run.runId, key: Note.tagKey)
      else { return }
      try database.adoptTrialNote(trialId: trialId, text: remote)
    } catch {
      logger.warning("could not read the note of run \(run.runId) back from its tracking server: \(error)")
    }
  }
}

extension AppDatabase {
  /// Keeps a note read from the tracking server as the trial's, when it has none (nothing is
  /// sent back: it came from there). An empty or over-long one is left out.
  func adoptTrialNote(trialId: Int64, text: String) throws {
    guard let note = try Note.checked(text) else { return }
    try writer.write { db in
      try db.execute(
        sql: "INSERT OR IGNORE INTO tag (trialId, key, value) VALUES (?, ?, ?)",
        arguments: [trialId, Note.tagKey, note])
    }
  }
}
