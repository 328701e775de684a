import Foundation
import GRDB

/// A note a user keeps on a study or a run: why a configuration was chosen, what went wrong.
///
/// A run's note is its MLflow tag `mlflow.note.content`, which is where MLflow keeps a run's
/// description: hpod's MLflow API shows it on the run, a note set there
/// (`mlflow.set_tag("mlflow.note.content", …)`) is the run's note, and the mirror sends it to
/// the tracking server with the run's other tags. A study's note is kept with the study.
public enum Note {
  /// The tag MLflow keeps a run's description in.
  public static let tagKey = "mlflow.note.content"
  /// The longest note, in characters (Unicode scalars, as MLflow counts): MLflow's limit on a
  /// tag's value, so that a note reaches a tracking server whole.
  public static let maxLength = 8000

  /// Why a note was refused.
  public struct Refusal: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// The note to keep: trailing whitespace dropped; nil when nothing is left (the note is
  /// removed). Refused when longer than `maxLength`.
  public static func checked(_ text: String) throws -> String? {
    let count = text.unicodeScalars.count
    guard count <= maxLength else {
      throw Refusal(
        description:
          "a note is at most \(maxLength) characters (MLflow's limit on the mlflow.note.content tag), this one has \(count); nothing was changed"
      )
    }
    var trimmed = Substring(text)
    while let last = trimmed.last, last.isWhitespace { trimmed = trimmed.dropLast() }
    return trimmed.isEmpty ? nil : String(trimmed)
  }
}

extension AppDatabase {
  public func studyNote(studyId: Int64) throws -> String? {
    try writer.read { db in
      try String.fetchOne(db, sql: "SELECT text FROM studyNote WHERE studyId = ?", arguments: [studyId])
    }
  }

  /// Sets (or, for an empty text, removes) a study's note; checked by `Note.checked` first,
  /// so a refused note changes nothing.
  public func setStudyNote(studyId: Int64, text: String) throws {
    let note = try Note.checked(text)
    try writer.write { db in
      if let note {
        try db.execute(
          sql: "INSERT OR REPLACE INTO studyNote (studyId, text, updatedAt) VALUES (?, ?, ?)",
          arguments: [studyId, note, Date()])
      } else {
        try db.execute(sql: "DELETE FROM studyNote WHERE studyId = ?", arguments: [studyId])
      }
    }
  }

  public func trialNote(trialId: Int64) throws -> String? {
    try writer.read { db in
      try String.fetchOne(
        db, sql: "SELECT value FROM tag WHERE trialId = ? AND key = ?", arguments: [trialId, Note.tagKey])
    }
  }

  /// Sets (or removes) a trial's note, its run's `mlflow.note.content` tag, and queues the
  /// tag for the tracking server when the study is mirrored (an empty value there: MLflow's
  /// own way to clear a note). A refused note changes nothing.
  public func setTrialNote(trialId: Int64, text: String) throws {
    let note = try Note.checked(text)
    try writer.write { db in
      if let note {
        try TagRecord(trialId: trialId, key: Note.tagKey, value: note).upsert(db)
      } else {
        try db.execute(sql: "DELETE FROM tag WHERE trialId = ? AND key = ?", arguments: [trialId, Note.tagKey])
      }
      try enqueueMirrorWrite(.setTags, trialId: trialId, payload: Self.json([Note.tagKey: note ?? ""]), db)
    }
  }

  /// The notes of a study's trials, by trial id (one query: an index probe per trial).
  public func trialNotes(studyId: Int64) throws -> [Int64: String] {
    try writer.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT tag.trialId, tag.value FROM trial JOIN tag ON tag.trialId = trial.id AND tag.key = ?
          WHERE trial.studyId = ?
          """, arguments: [Note.tagKey, studyId])
      return Dictionary(rows.map { ($0[0], $0[1]) }, uniquingKeysWith: { _, last in last })
    }
  }
}
