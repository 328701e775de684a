import ArgumentParser
import Foundation
import SearchStrategies
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

#if canImport(Glibc)
  import Glibc
#endif

struct QueryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "query",
    abstract: "Answer a question about a study in plain words (\"which run had the highest f1\").",
    discussion: """
      Reads the local store of `hpod run` ($HPOD_HOME or --home); no network. The question is mapped \
      onto the same analyses as heatmap, importance, compare, trials, logs and models by fixed rules, \
      and the answer starts with how it was understood. Examples:

      \(QueryParser.examples.map { "  hpod query \"\($0)\"" }.joined(separator: "\n"))

      Exit status: 0 answered, 1 understood but not answerable (unknown name, no such trial), \
      64 not understood.
      """)

  @Argument(help: "The question (quote it, or write it as several words).")
  var question: [String]

  @Option(help: "A study id or name (default: the newest study of the store).")
  var study: String?

  @Flag(help: "The intent and the result as JSON.")
  var json = false

  @OptionGroup var store: StoreOptions

  func run() async throws {
    let text = question.joined(separator: " ")
    guard let intent = QueryParser.parse(text) else {
      if json { throw CommandFailure("not understood: “\(text)”", exitCode: ExitCodes.usage) }
      print(Self.notUnderstood(text))
      throw ExitCode(ExitCodes.usage)
    }
    let database = try AppDatabase.open(at: store.hpodHome.databasePath)
    let record: StudyRecord
    if let study {
      record = try findStudy(study, in: database, home: store.hpodHome)
    } else {
      guard let newest = try database.studies().first else {
        throw ValidationError("no study in \(store.hpodHome.databasePath); `hpod run` a spec first, or pass --home")
      }
      record = newest
    }
    let answer: QueryAnswer
    do {
      answer = try QueryEngine(
        database: database, study: record, home: store.hpodHome, space: ImportanceRequest.storedSpec(of: record)?.space
      ).answer(intent)
    } catch let failure as QueryFailure {
      if !json { FileHandle.standardError.writeText("→ \(intent)\n") }
      throw CommandFailure("\(failure)")
    }
    if json {
      return try printJSON(QueryOutput(question: text, study: record.name, answer: answer))
    }
    print(QueryRenderer(study: record, colour: HeatmapRenderer.terminalWantsColour).render(answer))
  }

  static func notUnderstood(_ question: String) -> String {
    (["I don't understand “\(question)”. Questions I can answer, for example:"]
      + QueryParser.examples.map { "  hpod query \"\($0)\"" }).joined(separator: "\n")
  }
}

/// What `hpod query --json` prints.
struct QueryOutput: Encodable {
  var question: String
  var study: String
  var answer: QueryAnswer
}

/// Draws an answer as the other commands draw the same analysis, under the line that says
/// how the question was understood.
struct QueryRenderer {
  let study: StudyRecord
  var colour = false

  func render(_ answer: QueryAnswer) -> String {
    (["→ \(answer.understood)"] + body(answer.result)).joined(separator: "\n")
  }

  func body(_ result: QueryResult) -> [String] {
    switch result {
    case .ranking(let metric, _, let trials, let values):
      let first = trials[0]
      var lines = [
        "trial \(first.number) (\(first.tier.rawValue)): \(metric) = \(ProgressView.format(values[0]))",
        "  \(ProgressView.params(first.paramsJSON))",
      ]
      if trials.count > 1 { lines = [""] + Trials.table(trials, valueHeader: metric, values: values) }
      return lines
    case .comparison(let comparison):
      return CompareCommand.render(comparison)
    case .curve(let curve):
      return TerminalLineChart(steps: curve.steps, values: curve.values).render(
        title: "\(curve.metric) of trial \(curve.trial), \(curve.values.count) points")
    case .heatmap(let map):
      return [HeatmapRenderer(map: map, colour: colour).render()]
    case .importance(let metric, let tier, let scores):
      return ImportanceCommand.render(scores, title: "What explains \(metric) in study '\(study.name)' (\(tier)):")
    case .count(let state, let tier, let matching, let total):
      let noun = tier.map { $0 == .quickTest ? "quick tests" : "full trainings" } ?? "trials"
      let verb =
        switch state {
        case nil: ""
        case .pruned?, .cancelled?: " were \(state!.rawValue)"
        case .running?, .pending?: " are \(state!.rawValue)"
        case .timedOut?: " timed out"
        case let state?: " \(state.rawValue)"
        }
      var lines = [state == nil ? "\(matching.count) \(noun)" : "\(matching.count) of \(total) \(noun)\(verb)"]
      if !matching.isEmpty, matching.count < total { lines += Trials.table(Array(matching.prefix(20))) }
      if matching.count > 20 { lines.append("  … \(matching.count - 20) more") }
      return lines
    case .trials(let trials):
      return trials.isEmpty ? ["No trial matches."] : Trials.table(trials)
    case .trial(let detail):
      return describe(detail)
    case .log(let tail):
      return ["\(tail.path) (last \(tail.lines.count) lines):"] + tail.lines
    case .models(let versions, let aliases, let numbers):
      guard !versions.isEmpty else { return ["No model is registered by study '\(study.name)'."] }
      return Models.table(versions, aliases: aliases) { id in numbers[versions.firstIndex { $0.trialId == id }!] }
    case .summary(let overview):
      return describe(overview)
    case .help(let examples):
      return ["Questions I can answer, for example:"] + examples.map { "  hpod query \"\($0)\"" }
    }
  }

  func describe(_ detail: TrialDetail) -> [String] {
    let trial = detail.trial
    var lines = [
      "trial \(trial.number) (\(trial.tier.rawValue)): \(trial.state.rawValue)"
        + (trial.value.map { ", \(study.objectiveMetric) = \(ProgressView.format($0))" } ?? "")
        + (trial.duration.map { String(format: ", %.1fs", $0) } ?? "")
    ]
    if let reason = trial.reason { lines.append("  reason: \(reason)") }
    if let source = detail.sourceTrial { lines.append("  promoted from quick test \(source)") }
    lines.append("  parameters: \(ProgressView.params(trial.paramsJSON))")
    if !detail.finalMetrics.isEmpty {
      lines.append(
        "  final metrics: "
          + detail.finalMetrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(ProgressView.format($0.value))" }
          .joined(separator: " "))
    }
    if !detail.logTail.isEmpty {
      lines.append("  end of stderr:")
      lines += detail.logTail.map { "    \($0)" }
    }
    return lines
  }

  func describe(_ overview: StudyOverview) -> [String] {
    let counts = TrialState.allCases.compactMap { state in
      overview.counts[state.rawValue].map { "\($0) \(state.rawValue)" }
    }
    var lines = [
      "study \(overview.study.id!) '\(overview.study.name)': \(overview.study.state.rawValue); "
        + "\(overview.quickTests) quick tests, \(overview.fullTrainings) full trainings"
        + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
    ]
    if let best = overview.best, let value = best.value {
      lines.append(
        "  best: trial \(best.number) (\(best.tier.rawValue)) \(overview.study.objectiveMetric) = \(ProgressView.format(value)): \(ProgressView.params(best.paramsJSON))"
      )
    }
    for version in overview.models {
      lines.append("  registered: \(version.modelName) v\(version.version), met \(version.conditions)")
    }
    return lines
  }
}

/// A metric's history as a small terminal chart: a sparkline, then points on a grid with the
/// value range on the left and the steps below.
struct TerminalLineChart {
  let steps: [Int]
  let values: [Double]
  var width = 60
  var height = 10

  static let ticks = Array("▁▂▃▄▅▆▇█")

  var sparkline: String {
    let (low, high) = (values.min() ?? 0, values.max() ?? 0)
    return String(
      values.map { value in
        high > low ? Self.ticks[Int(((value - low) / (high - low) * 7).rounded())] : Self.ticks[3]
      })
  }

  func render(title: String) -> [String] {
    guard let low = values.min(), let high = values.max(), let firstStep = steps.first, let lastStep = steps.last
    else { return [title, "  (no points)"] }
    let columns = min(width, max(24, values.count))
    let span = max(lastStep - firstStep, 1)
    var grid = [[Character]](repeating: [Character](repeating: " ", count: columns), count: height)
    func row(_ value: Double) -> Int {
      high > low ? Int(((high - value) / (high - low) * Double(height - 1)).rounded()) : height / 2
    }
    var previous: (column: Int, row: Int)?
    for (step, value) in zip(steps, values) {
      let column = Int((Double(step - firstStep) / Double(span) * Double(columns - 1)).rounded())
      let current = (column: column, row: row(value))
      if let previous, column - previous.column > 1 {
        // Join far-apart points with dots so the curve reads as a line.
        for between in (previous.column + 1)..<column {
          let t = Double(between - previous.column) / Double(column - previous.column)
          let r = Int((Double(previous.row) + t * Double(current.row - previous.row)).rounded())
          if grid[r][between] == " " { grid[r][between] = "·" }
        }
      }
      grid[current.row][column] = "●"
      previous = current
    }
    let labels = (0..<height).map { index -> String in
      switch index {
      case 0: ProgressView.format(high)
      case height - 1: ProgressView.format(low)
      case (height - 1) / 2: ProgressView.format((high + low) / 2)
      default: ""
      }
    }
    let labelWidth = labels.map(\.count).max() ?? 0
    var lines = [title, "  \(sparkline)", ""]
    for (label, cells) in zip(labels, grid) {
      lines.append("  " + String(repeating: " ", count: labelWidth - label.count) + label + " ┤" + String(cells))
    }
    lines.append("  " + String(repeating: " ", count: labelWidth) + " └" + String(repeating: "─", count: columns))
    let right = "step \(lastStep)"
    let left = "step \(firstStep)"
    lines.append(
      "  " + String(repeating: " ", count: labelWidth + 2) + left
        + String(repeating: " ", count: max(1, columns - left.count - right.count)) + right)
    let best = values.indices.min { values[$0] < values[$1] }!
    let worst = values.indices.max { values[$0] < values[$1] }!
    lines.append(
      "  first \(ProgressView.format(values[0])), last \(ProgressView.format(values.last!)), "
        + "min \(ProgressView.format(values[best])) at step \(steps[best]), "
        + "max \(ProgressView.format(values[worst])) at step \(steps[worst])")
    return lines
  }
}
