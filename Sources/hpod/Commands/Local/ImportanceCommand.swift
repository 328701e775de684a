import ArgumentParser
import Foundation
import SearchStrategies
import StudyAnalysis
import TrackingBridge
import TrialScheduler

struct ImportanceCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "importance",
    abstract: "Which parameters explain the objective (rank correlation, or variance explained for categories).",
    discussion: "Reads the local store of `hpod run` ($HPOD_HOME or --home).")

  @Argument(help: "A study id or name.")
  var study: String

  @Option(help: "quick_test (default), full_training or all.")
  var tier = "quick_test"

  @Flag(help: "JSON instead of a table.")
  var json = false

  @OptionGroup var store: StoreOptions

  func run() async throws {
    let database = try AppDatabase.open(at: store.hpodHome.databasePath)
    let record = try findStudy(study, in: database, home: store.hpodHome)
    let chosen: Tier? = tier == "all" ? nil : Tier(rawValue: tier)
    guard tier == "all" || chosen != nil else {
      throw ValidationError("--tier must be quick_test, full_training or all")
    }
    let scores = try ParameterImportance.load(database: database, study: record, tier: chosen)
    if json {
      return try printJSON(scores)
    }
    Self.render(
      scores, title: "What explains \(record.objectiveMetric) in study \(record.id!) '\(record.name)' (\(tier)):"
    )
    .forEach { print($0) }
  }

  /// Importance scores as a table with bars, under a title.
  static func render(_ scores: [ParameterImportance], title: String) -> [String] {
    guard !scores.isEmpty else { return ["Not enough completed trials yet (3 per parameter at least)."] }
    var rows = [["parameter", "importance", "", "effect", "trials"]]
    for score in scores {
      let bar = String(repeating: "█", count: Int((score.score * 20).rounded()))
      rows.append([score.parameter, String(format: "%.2f", score.score), bar, score.effect, String(score.trials)])
    }
    return [title] + Summary.align(rows)
  }
}
