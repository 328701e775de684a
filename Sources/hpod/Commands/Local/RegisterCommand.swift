import ArgumentParser
import Foundation
import TrackingBridge
import TrialScheduler

struct RegisterCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "register",
    abstract: "Register an existing run in the model registry by hand.",
    discussion: """
      The run is judged by the study's registration thresholds (registration.conditions) and \
      registered under its model and alias when it meets them; --force registers one that \
      does not. A study without a registration section needs --model. Works on the local store.
      """)

  @Argument(help: "The study: its id or name (the newest with that name).")
  var study: String

  @Argument(help: "The trial's number in the study (as `hpod trials` shows it).")
  var trial: Int

  @Option(help: "The model to register it as (default: the study's registration.model).")
  var model: String?

  @Flag(help: "Register it even if it misses the thresholds.")
  var force = false

  @Flag(help: "Print the registered version as JSON (as hpod models --json lists it).")
  var json = false

  @OptionGroup var store: StoreOptions

  func validate() throws {
    guard (0...10_000_000).contains(trial) else { throw ValidationError("the trial number must be from 0 to 10000000") }
    if let model, model.isEmpty || model.count > 256 || model.contains(where: { $0.isNewline || $0 == "\0" }) {
      throw ValidationError("--model: expected a name of 1 to 256 characters on one line")
    }
  }

  func run() async throws {
    let home = store.hpodHome
    let database = try AppDatabase.open(at: home.databasePath)
    let record = try findStudy(study, in: database, home: home)
    let version: ModelVersion
    do {
      version = try ManualRegistration.register(
        study: record, trialNumber: trial, model: model, force: force, database: database)
    } catch let refusal as ManualRegistration.Refusal {
      throw CommandFailure("\(refusal)")
    }
    if json {
      return try printJSON(
        Registered(
          model: version.modelName, version: version.version, study: record.name, studyId: record.id!, trial: trial))
    }
    print(
      "Registered trial \(trial) of study '\(record.name)' (id \(record.id!)) as \(version.modelName) v\(version.version)."
    )
  }

  /// What `register --json` prints.
  struct Registered: Encodable {
    var model: String
    var version: Int
    var study: String
    var studyId: Int64
    var trial: Int

    enum CodingKeys: String, CodingKey {
      case model, version, study, trial
      case studyId = "study_id"
    }
  }
}
