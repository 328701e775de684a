import ArgumentParser
import Foundation
import NumberText
import SearchStrategies
import Significance
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

struct CompareCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract:
      "Compare 2 to 4 trials of a study: final metrics with the change, what configuration differs, what to do next.",
    discussion: "Reads the local store of `hpod run` ($HPOD_HOME or --home). Trials are numbers within the study.")

  @Argument(help: "A study id or name.")
  var study: String

  @Argument(help: "2 to 4 trial numbers.")
  var trials: [Int]

  @Flag(help: "JSON instead of tables.")
  var json = false

  @OptionGroup var store: StoreOptions

  func validate() throws {
    guard (2...4).contains(trials.count) else { throw ValidationError("give 2 to 4 trial numbers") }
  }

  func run() async throws {
    let database = try AppDatabase.open(at: store.hpodHome.databasePath)
    let record = try findStudy(study, in: database, home: store.hpodHome)
    let comparison: RunComparison
    do {
      comparison = try RunComparison.load(database: database, study: record, numbers: trials)
    } catch let failure as RunComparison.Failure {
      throw ValidationError(failure.description)
    }
    if json {
      return try printJSON(comparison)
    }
    Self.render(comparison).forEach { print($0) }
  }

  /// The comparison as the terminal shows it: metrics with their change, the configuration
  /// with what differs starred, the recommendation.
  static func render(_ comparison: RunComparison) -> [String] {
    let header = [""] + zip(comparison.trials, comparison.tiers).map { "trial \($0) (\($1))" }
    var lines = ["Metrics (final values; change vs the first trial):"]
    lines += Summary.align(
      [header]
        + comparison.metrics.map { row in
          [row.name]
            + zip(row.values, row.changes).enumerated().map { index, pair in
              let (value, change) = pair
              guard index > 0, let change else { return value ?? "-" }
              return "\(value ?? "-") (\(String(format: "%+.1f%%", change)))"
            }
        })
    lines += ["", "Configuration (* differs):"]
    lines += Summary.align(
      [header]
        + comparison.parameters.map { row in [(row.differs ? "* " : "  ") + row.name] + row.values.map { $0 ?? "-" } })
    if !comparison.significance.isEmpty {
      lines += ["", "Differences over repeats (95% interval; Welch's t-test, and the rank test):"]
      lines += Summary.align(
        [["metric", "pair", "difference", "interval", "p (Welch)", "p (rank)", "n"]]
          + comparison.significance.map { test in
            [
              test.metric, "\(test.first) − \(test.second)", String(format: "%+.4g", test.difference),
              "[\(NumberText.of(test.lower)), \(NumberText.of(test.upper))]", Improvement.pText(test.pValue),
              test.rankPValue.map(Improvement.pText) ?? "-", test.counts.map(String.init).joined(separator: " vs "),
            ]
          })
    }
    lines += ["", "Recommendation: \(comparison.recommendation)"]
    return lines
  }
}
