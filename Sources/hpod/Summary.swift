import Foundation
import TrackingBridge
import TrialScheduler

/// The table printed when a study ends: counts by state, the best trials with their values,
/// durations and parameters, and where everything is kept.
struct Summary {
  let spec: StudySpec
  let study: StudyRecord
  let trials: [TrialRecord]
  let home: HpodHome
  var rows = 10

  func render() -> String {
    var out: [String] = []
    let counts = Dictionary(grouping: trials, by: \.state).mapValues(\.count)
    let countText = TrialState.allCases.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
    out.append("Study '\(study.name)' (id \(study.id!)) \(study.state.rawValue): \(trials.count) trials (\(countText.joined(separator: ", ")))")
    if let reason = study.stateReason { out.append("  \(reason)") }

    let direction = spec.objective.direction
    let ranked = trials.filter { $0.state == .completed && $0.value != nil }
      .sorted { direction.isBetter($0.value!, than: $1.value!) || ($0.value! == $1.value! && $0.number < $1.number) }
    guard let best = ranked.first else {
      out.append("No trial completed. Look at a trial's logs in \(home.path)/runs/\(study.id!)/<trial>/stderr.log")
      return out.joined(separator: "\n")
    }
    out.append("")
    let header = ["trial", "tier", spec.objective.metric, "duration", "parameters"]
    var table = [header]
    for trial in ranked.prefix(rows) {
      table.append([
        String(trial.number), trial.tier.rawValue, ProgressView.format(trial.value!),
        trial.duration.map { String(format: "%.1fs", $0) } ?? "-", ProgressView.params(trial.paramsJSON),
      ])
    }
    out += Self.align(table)
    if ranked.count > rows { out.append("  … \(ranked.count - rows) more completed trials") }
    out.append("")
    out.append("Best: trial \(best.number), \(spec.objective.metric) = \(ProgressView.format(best.value!))")
    out.append("  \(ProgressView.params(best.paramsJSON))")
    out.append("  artifacts: \(best.runDirectory ?? home.runDirectory(studyId: study.id!, trialNumber: best.number))/artifacts")
    out.append("Store: \(home.databasePath)")
    return out.joined(separator: "\n")
  }

  static func align(_ rows: [[String]]) -> [String] {
    let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      "  " + row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }.joined(separator: "  ")
    }
  }
}
