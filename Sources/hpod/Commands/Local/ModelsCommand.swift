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
    try Self.table(versions, aliases: aliases) { try database.trial(id: $0)?.number }.forEach { print($0) }
  }

  /// The registry as a table; `trialNumber` finds the number of a version's trial.
  static func table(_ versions: [ModelVersion], aliases: [ModelAlias], trialNumber: (Int64) throws -> Int?) rethrows
    -> [String]
  {
    var rows = [["model", "version", "aliases", "study", "trial", "value", "registered", "met"]]
    for version in versions {
      let names = aliases.filter { $0.modelName == version.modelName && $0.version == version.version }.map(\.alias)
      rows.append([
        version.modelName, "v\(version.version)", names.joined(separator: ","), String(version.studyId),
        try trialNumber(version.trialId).map(String.init) ?? "?", version.value.map(ProgressView.format) ?? "-",
        ISO8601DateFormatter().string(from: version.createdAt), version.conditions,
      ])
    }
    return Summary.align(rows)
  }
}
