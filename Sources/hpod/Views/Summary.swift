import Foundation
import HPODAPI
import MultiObjective
import Significance
import StudyModel
import TrackingBridge
import TrialScheduler

/// The table printed when a study ends: counts by state, the best trials with their values,
/// durations and parameters, and where everything is kept.
struct Summary {
  let spec: StudySpec
  let study: StudyRecord
  let trials: [TrialRecord]
  let home: HpodHome
  /// The model versions this study registered, and the aliases of those models.
  var models: [ModelVersion] = []
  var aliases: [ModelAlias] = []
  /// The Pareto front, for a study of several objectives.
  var front: ParetoFront?
  /// Trials that broke a constraint: never the best.
  var infeasible: Set<Int64> = []
  /// Final metrics by trial id, for a study of several objectives or with constraints.
  var finalMetrics: [Int64: [String: Double]] = [:]
  /// The spec's metrics (early stopping, thresholds, constraints) that no trial reported.
  var unreported: [String] = []
  var rows = 10

  static func load(spec: StudySpec, study: StudyRecord, trials: [TrialRecord], home: HpodHome, database: AppDatabase)
    throws -> Summary
  {
    let models = try database.modelVersions().filter { $0.studyId == study.id }
    let aliases = try database.modelAliases().filter { alias in models.contains { $0.modelName == alias.modelName } }
    var summary = Summary(spec: spec, study: study, trials: trials, home: home, models: models, aliases: aliases)
    if trials.contains(where: { $0.state == .completed }) {
      summary.unreported = spec.unreportedMetrics(reported: try database.metricNames(studyId: study.id!))
    }
    if spec.needsFinalMetrics {
      let finals = try database.finalMetricValues(studyId: study.id!)
      summary.finalMetrics = finals
      summary.infeasible = Set(
        trials.compactMap { trial in
          trial.id.flatMap { finals[$0] }.flatMap { spec.violation(of: $0) > 0 ? trial.id : nil }
        })
      if spec.isMultiObjective { summary.front = ParetoFront.of(spec: spec, trials: trials, finalMetrics: finals) }
    }
    return summary
  }

  func render() -> String {
    var out: [String] = []
    let counts = Dictionary(grouping: trials, by: \.state).mapValues(\.count)
    let countText = TrialState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
    out.append(
      "Study '\(study.name)' (id \(study.id!)) \(study.state.rawValue): \(trials.count) trials (\(countText.joined(separator: ", ")))"
    )
    if let reason = study.stateReason { out.append("  \(reason)") }
    out += unreported.map { "Warning: \($0)" }

    let ranked = rankedConfigurations()
    guard let best = ranked.first else {
      let last = (trials.last { $0.state == .failed } ?? trials.last).map(\.number) ?? 0
      out.append(
        "No trial completed. A trial's log: `hpod logs \(study.id!) \(last) --stderr` (files in \(home.path)/runs/\(study.id!)/\(last)/)"
      )
      return out.joined(separator: "\n")
    }
    out.append("")
    let repeated = ranked.contains { $0.summary.count > 1 }
    if front != nil {
      out += Self.align(tradeOffTable(ranked))
    } else {
      let header =
        ["trial", "tier", spec.objective.metric] + (repeated ? ["repeats"] : []) + ["duration", "parameters"]
      var table = [header]
      for (trial, summary) in ranked.prefix(rows) {
        table.append(
          [String(trial.number), trial.tier.rawValue, Self.describe(summary)]
            + (repeated ? [String(summary.count)] : []) + [
              duration(of: trial), ProgressView.params(trial.paramsJSON),
            ])
      }
      out += Self.align(table)
    }
    if ranked.count > rows {
      out.append("  … \(ranked.count - rows) more completed \(repeated ? "configurations" : "trials")")
    }
    out.append("")
    let fullTrainings = trials.filter { $0.tier == .fullTraining }
    if !fullTrainings.isEmpty {
      out.append("Full trainings:")
      for trial in fullTrainings {
        let source = trials.first { $0.id == trial.sourceTrialId }.map { "from quick test \($0.number)" } ?? ""
        let value = trial.value.map { "\(spec.objective.metric) = \(ProgressView.format($0))" } ?? trial.reason ?? ""
        out.append("  trial \(trial.number) \(source): \(trial.state.rawValue), \(value)")
      }
    }
    for version in models {
      let alias = aliases.filter { $0.modelName == version.modelName && $0.version == version.version }.map(\.alias)
      let trial =
        trials.first { $0.id == version.trialId }.map { "trial \($0.number)" } ?? "trial id \(version.trialId)"
      out.append(
        "Registered: \(version.modelName) v\(version.version)\(alias.isEmpty ? "" : " (\(alias.joined(separator: ", ")))") from \(trial), met \(version.conditions)"
      )
      if let path = version.artifactPath { out.append("  model file: \(path)") }
    }
    if let registration = spec.registration, models.isEmpty {
      let ran = trials.contains { $0.tier == registration.tier && $0.state == .completed }
      let conditions = registration.conditions.map(\.description).joined(separator: " and ")
      out.append(
        ran
          ? "Registered: nothing; no \(registration.tier.rawValue) run met \(conditions)"
          : "Registered: nothing; no \(registration.tier.rawValue) run completed")
    }
    if let front {
      // Several objectives: no one best, the trade-offs (the front's trials' folders hold
      // their artifacts).
      out.append(
        front.members.isEmpty
          ? "Pareto front: empty; no completed trial met \(spec.constraints.map(\.description).joined(separator: " and "))"
          : Best.describe(API.Front(front)))
      out.append("  artifacts: \(home.path)/runs/\(study.id!)/<trial>/artifacts")
    } else {
      out.append(
        "Best: trial \(best.trial.number) (\(best.trial.tier.rawValue)), \(spec.objective.metric) = \(Self.describe(best.summary))"
      )
      out.append("  \(ProgressView.params(best.trial.paramsJSON))")
      out.append(
        "  artifacts: \(best.trial.runDirectory ?? home.runDirectory(studyId: study.id!, trialNumber: best.trial.number))/artifacts"
      )
    }
    out.append("Store: \(home.databasePath)")
    return out.joined(separator: "\n")
  }

  /// Completed configurations best first, each as its first completed trial and its value
  /// over its repeats (one value for a configuration run once).
  func rankedConfigurations() -> [(trial: TrialRecord, summary: SampleSummary)] {
    let direction = spec.objective.direction
    let summaries = RepeatGroups.summaries(trials)
    var seen: Set<Int64> = []
    var ranked: [(trial: TrialRecord, summary: SampleSummary)] = []
    for trial in trials.sorted(by: { $0.number < $1.number })
    where trial.state == .completed && !infeasible.contains(trial.id ?? -1) {
      guard let id = trial.configurationId, let summary = summaries[id], seen.insert(id).inserted else { continue }
      ranked.append((trial, summary))
    }
    return ranked.sorted { a, b in
      a.summary.mean == b.summary.mean
        ? a.trial.number < b.trial.number : direction.isBetter(a.summary.mean, than: b.summary.mean)
    }
  }

  /// Several objectives: the completed feasible configurations, full trainings first, each
  /// tier by non-dominated sorting (front 1 is its Pareto front) and within a front by the
  /// first objective, with every objective's value (the mean over repeats).
  func tradeOffTable(_ ranked: [(trial: TrialRecord, summary: SampleSummary)]) -> [[String]] {
    let groups = Dictionary(grouping: trials.filter { $0.state == .completed }, by: \.configurationId)
    let rowsByTier = Dictionary(grouping: ranked, by: \.trial.tier)
    var table = [["trial", "tier"] + spec.objectives.map(\.metric) + ["front", "duration", "parameters"]]
    for tier in [Tier.fullTraining, .quickTest] {
      let entries = (rowsByTier[tier] ?? []).compactMap { entry -> (TrialRecord, [String: Double])? in
        let members = groups[entry.trial.configurationId] ?? [entry.trial]
        let metrics = FinalMetrics.mean(members.compactMap { $0.id.flatMap { finalMetrics[$0] } })
        guard spec.objectives.allSatisfy({ metrics[$0.metric]?.isFinite == true }) else { return nil }
        return (entry.trial, metrics)
      }
      let losses = entries.map { _, metrics in spec.objectives.map { $0.direction.loss(metrics[$0.metric]!) } }
      // `entries` keeps `ranked`'s order (the first objective's), so each front stays in it.
      for (rank, front) in Dominance.sortedFronts(losses).enumerated() {
        for index in front.sorted() {
          guard table.count <= rows else { break }
          let (trial, metrics) = entries[index]
          let values: [String] = spec.objectives.map { ProgressView.format(metrics[$0.metric]!) }
          let duration = duration(of: trial)
          let row: [String] = [String(trial.number), trial.tier.rawValue] + values
          table.append(row + [String(rank + 1), duration, ProgressView.params(trial.paramsJSON)])
        }
      }
    }
    return table
  }

  /// The value, or "0.9132 ± 0.0041 (n = 3)" over repeats.
  static func describe(_ summary: SampleSummary) -> String {
    summary.count > 1 ? RepeatGroups.describe(summary) : ProgressView.format(summary.mean)
  }

  static func align(_ rows: [[String]]) -> [String] {
    let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      "  "
        + row.enumerated().map { index, cell in
          index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
  }

  /// A trial's time, counted across the attempts of its configuration (a run again after a
  /// crash or a stop resumes from its checkpoint: the training took them all).
  func duration(of trial: TrialRecord) -> String {
    let byId = Dictionary(trials.compactMap { record in record.id.map { ($0, record) } }) { first, _ in first }
    var attempts = [trial]
    while let previous = attempts.last?.retryOf, attempts.count <= trials.count, let record = byId[previous] {
      attempts.append(record)
    }
    let seconds = attempts.compactMap(\.duration).reduce(0, +)
    guard trial.duration != nil else { return "-" }
    return attempts.count > 1
      ? String(format: "%.1fs over %d attempts", seconds, attempts.count) : String(format: "%.1fs", seconds)
  }
}
