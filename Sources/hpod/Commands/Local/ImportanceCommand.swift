import ArgumentParser
import Foundation
import SearchStrategies
import StudyAnalysis
import TrackingBridge
import TrialScheduler

struct ImportanceCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "importance",
    abstract: "Which parameters explain the objective (fANOVA of a random forest, or Spearman for comparison).",
    discussion: """
      Each parameter's share of the metric's variance it explains alone, from a functional ANOVA \
      of a random forest fitted to the completed trials (as Optuna's default): a parameter whose \
      best value lies inside its range ranks as high as one with a monotone effect. \
      --method spearman gives the older reading (|Spearman ρ| for numbers, η² for categories), \
      which misses such an optimum. The API's /api/v1/studies/ID/importance gives the same figures. \
      Reads the local store of `hpod run` ($HPOD_HOME or --home).
      """)

  @Argument(help: "A study id or name.")
  var study: String

  @Option(help: "quick_test (default), full_training or all.")
  var tier = "quick_test"

  @Option(help: "The metric to explain (default: the objective; another objective or any reported metric).")
  var metric: String?

  @Option(help: "fanova (default) or spearman.")
  var method = "fanova"

  @Flag(help: "JSON instead of a table.")
  var json = false

  @OptionGroup var store: StoreOptions

  func run() async throws {
    let database = try AppDatabase.open(at: store.hpodHome.databasePath)
    let record = try findStudy(study, in: database, home: store.hpodHome)
    let spec = ImportanceRequest.storedSpec(of: record)
    let finalMetrics = try database.finalMetricValues(studyId: record.id!)
    let reported = Set(finalMetrics.values.flatMap(\.keys)).subtracting([record.objectiveMetric])
    let asked: ImportanceRequest
    do {
      asked = try ImportanceRequest(
        metric: metric, tier: tier, method: method, study: record, spec: spec,
        metrics: [record.objectiveMetric] + reported.sorted())
    } catch {
      throw ValidationError("--\(error.description)")
    }
    let scores = asked.scores(
      trials: try database.trials(studyId: record.id!), study: record, finalMetrics: finalMetrics,
      configurations: nil, space: spec?.space)
    if json {
      return try printJSON(scores)
    }
    Self.render(
      scores,
      title:
        "What explains \(asked.metric) in study \(record.id!) '\(record.name)' (\(asked.tierName), \(asked.method.rawValue)):"
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
