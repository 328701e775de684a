import ArgumentParser
import Foundation
import TrackingBridge
import TrialScheduler

struct Models: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the model registry: every registered version, its run, metrics and aliases.")

  @Argument(help: "Only this model.")
  var name: String?

  @Flag(help: "JSON instead of a table.")
  var json = false

  @OptionGroup var store: StoreOptions

  func run() async throws {
    let database = try AppDatabase.open(at: store.hpodHome.databasePath)
    let versions = try database.modelVersions(named: name)
    let aliases = try database.modelAliases(named: name)
    if json {
      return try printJSON(versions)
    }
    guard !versions.isEmpty else {
      print(name.map { "No model named '\($0)' is registered." } ?? "No model is registered yet.")
      return
    }
    var rows = [["model", "version", "aliases", "study", "trial", "value", "registered", "met"]]
    for version in versions {
      let names = aliases.filter { $0.modelName == version.modelName && $0.version == version.version }.map(\.alias)
      let trial = try database.trial(id: version.trialId)
      rows.append([
        version.modelName, "v\(version.version)", names.joined(separator: ","), String(version.studyId),
        trial.map { String($0.number) } ?? "?", version.value.map(ProgressView.format) ?? "-",
        ISO8601DateFormatter().string(from: version.createdAt), version.conditions,
      ])
    }
    Summary.align(rows).forEach { print($0) }
  }
}
