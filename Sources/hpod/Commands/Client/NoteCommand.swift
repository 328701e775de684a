import ArgumentParser
import Foundation
import HPODAPI
import TrackingBridge

/// `hpod note STUDY [TRIAL] [--set TEXT | --clear]`: a study's or a run's note, printed or set.
struct NoteCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "note", abstract: "Print or set the note on a study or on one of its runs.",
    discussion: """
      A note says why a configuration was chosen or what went wrong. A run's note is its MLflow tag \
      mlflow.note.content: a note set with mlflow.set_tag shows here, and a mirrored study's notes reach \
      its MLflow server. At most \(Note.maxLength) characters. Without a daemon, works on the local store.
      Examples:
        hpod note 3                                 print study 3's note
        hpod note 3 17 --set "diverged: lr too high" set trial 17's note
        hpod note 3 17 --clear                       remove it
      """)

  @Argument(help: "A study id.")
  var study: Int64

  @Argument(help: "A trial number in the study (without it, the study's own note).")
  var trial: Int?

  @Option(help: "Set the note to this text (\"-\" reads it from standard input).")
  var set: String?

  @Flag(help: "Remove the note.")
  var clear = false

  @OptionGroup var options: ClientOptions

  /// The local store used when no daemon answers.
  @OptionGroup var store: StoreOptions

  func validate() throws {
    if set != nil && clear { throw ValidationError("--set and --clear cannot be used together") }
    if let trial, trial < 1 { throw ValidationError("a trial number is 1 or more, found \(trial)") }
  }

  func run() async throws {
    let path = "api/v1/studies/\(study)" + (trial.map { "/trials/\($0)" } ?? "") + "/note"
    let change: String? =
      clear
      ? ""
      : try set.map { $0 == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : $0 }
    let body = try change.map { try JSONEncoder().encode(["note": $0]) }
    let note = try await options.read(home: store.hpodHome) { client in
      let data =
        if let body {
          try await client.send("PUT", path, body: body, headers: ["Content-Type": "application/json"])
        } else {
          try await client.send("GET", path)
        }
      return try API.decoder.decode(API.Note.self, from: data)
    }
    if options.json { return try options.printJSON(note) }
    let what = note.trial.map { "trial \($0) of study \(note.study)" } ?? "study \(note.study)"
    if change != nil {
      print(note.note == nil ? "removed the note of \(what)" : "set the note of \(what)")
    } else {
      print(
        note.note
          ?? "\(what) has no note; set one with: hpod note \(note.study)\(note.trial.map { " \($0)" } ?? "") --set TEXT"
      )
    }
  }
}
