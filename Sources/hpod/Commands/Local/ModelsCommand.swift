import ArgumentParser
import Foundation
import SearchStrategies
import StudyModel
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
      let studies = Dictionary(uniqueKeysWithValues: try database.studies().map { ($0.id!, $0.name) })
      return try printJSON(
        Listing(
          models: try versions.map { version in
            try Listing.Version(
              version, aliases: aliases, study: studies[version.studyId],
              trial: try database.trial(id: version.trialId)?.number)
          }))
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

  /// The registry as `--json` prints it: snake_case keys, a run named by its study and trial
  /// number (as every other command names it), metrics and parameters as JSON objects.
  struct Listing: Encodable {
    var models: [Version]

    struct Version: Encodable {
      var model: String
      var version: Int
      var aliases: [String]
      var studyId: Int64
      var study: String?
      /// The trial's number in its study; nil when the run is no longer in the store.
      var trial: Int?
      var value: Double?
      var metrics: [String: Double]
      var params: Configuration
      /// The thresholds it met, as the registration wrote them (or "by hand").
      var thresholds: String
      var artifactPath: String?
      var registeredAt: Date

      enum CodingKeys: String, CodingKey {
        case model, version, aliases, study, trial, value, metrics, params, thresholds
        case studyId = "study_id"
        case artifactPath = "artifact_path"
        case registeredAt = "registered_at"
      }

      init(_ version: ModelVersion, aliases: [ModelAlias], study: String?, trial: Int?) throws {
        model = version.modelName
        self.version = version.version
        self.aliases = aliases.filter { $0.modelName == version.modelName && $0.version == version.version }.map(
          \.alias)
        studyId = version.studyId
        self.study = study
        self.trial = trial
        value = version.value
        metrics = try JSONDecoder().decode([String: Double].self, from: Data(version.metricsJSON.utf8))
        params = try JSONDecoder().decode(Configuration.self, from: Data(version.paramsJSON.utf8))
        thresholds = version.conditions
        artifactPath = version.artifactPath
        registeredAt = version.createdAt
      }
    }
  }
}
