import ArgumentParser
import Foundation
import SearchStrategies
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
    let all = try database.trials(studyId: record.id!)
    let runs = try trials.map { number -> TrialRecord in
      guard let trial = all.first(where: { $0.number == number }) else {
        throw ValidationError("study \(record.id!) has no trial \(number) (it has 0...\(all.count - 1))")
      }
      return trial
    }
    let metrics = Dictionary(
      uniqueKeysWithValues: try runs.map { ($0.id!, try database.finalMetrics(trialId: $0.id!)) })
    let direction = Direction(rawValue: record.direction) ?? .minimize
    let comparison = try RunComparison.compute(
      runs: runs, finalMetrics: metrics, objective: record.objectiveMetric, direction: direction,
      bestFullTraining: try database.summary(studyId: record.id!, higherIsBetter: direction == .maximize).best
        .flatMap { $0.tier == .fullTraining ? $0 : nil })
    if json {
      return try printJSON(comparison)
    }
    let header = [""] + zip(comparison.trials, comparison.tiers).map { "trial \($0) (\($1))" }
    print("Metrics (final values; change vs the first trial):")
    Summary.align(
      [header]
        + comparison.metrics.map { row in
          [row.name]
            + zip(row.values, row.changes).enumerated().map { index, pair in
              let (value, change) = pair
              guard index > 0, let change else { return value ?? "-" }
              return "\(value ?? "-") (\(String(format: "%+.1f%%", change)))"
            }
        }
    ).forEach { print($0) }
    print("\nConfiguration (* differs):")
    Summary.align(
      [header]
        + comparison.parameters.map { row in [(row.differs ? "* " : "  ") + row.name] + row.values.map { $0 ?? "-" } }
    ).forEach { print($0) }
    print("\nRecommendation: \(comparison.recommendation)")
  }
}
