import Foundation
import Hummingbird
import NumberText
import SearchStrategies
import Significance
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

/// 2 to 4 runs side by side: final metrics with the change to the first run, the
/// configuration with what differs highlighted, the recommendation and its button.
struct ComparePage {
  let snapshot: StudySnapshot
  let runs: [TrialRecord]
  let comparison: RunComparison
  let database: AppDatabase

  /// The runs named by `trials` values (`3,7` or repeated), as trial numbers of the study.
  static func runs(_ values: [String], in snapshot: StudySnapshot) throws -> [TrialRecord] {
    let words = values.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == " " }) }
    guard !words.isEmpty else {
      throw HTTPError(
        .badRequest, message: "choose 2 to 4 runs to compare: ?trials=3,7 (trial numbers within the study)")
    }
    guard words.count <= 4 else {
      throw HTTPError(.badRequest, message: "compare takes 2 to 4 trials, got \(words.count)")
    }
    var runs: [TrialRecord] = []
    for word in words {
      guard let number = Int(word) else {
        throw HTTPError(.badRequest, message: "trials must be trial numbers, found \"\(word)\"")
      }
      guard let trial = snapshot.trial(number: number) else {
        throw HTTPError(.notFound, message: "study \(snapshot.id) has no trial \(number)")
      }
      if !runs.contains(trial) { runs.append(trial) }
    }
    guard (2...4).contains(runs.count) else {
      throw HTTPError(.badRequest, message: "compare takes 2 to 4 different trials, got \(runs.count)")
    }
    return runs
  }

  static func compare(_ runs: [TrialRecord], in snapshot: StudySnapshot) throws -> RunComparison {
    do {
      return try RunComparison.compute(
        runs: runs, finalMetrics: snapshot.finalMetrics, objective: snapshot.objective, direction: snapshot.direction,
        studyTrials: snapshot.trials,
        repeats: snapshot.repeatSummaries.isEmpty ? [:] : RunComparison.repeats(of: runs, among: snapshot.trials))
    } catch {
      throw HTTPError(.badRequest, message: error.description)
    }
  }

  /// The run the recommendation would train in full.
  var recommended: TrialRecord? {
    guard comparison.action == .trainInFull, let number = comparison.recommendedTrial else { return nil }
    return runs.first { $0.number == number }
  }

  /// "Run more repeats" for each compared quick test whose configuration hpod runs.
  func repeatButtons() -> HTML {
    guard snapshot.spec?.isAskAndTell == false, snapshot.study.state != .failed else { return .empty }
    let quickTests = runs.filter { $0.tier == .quickTest && $0.state.isFinished }
    let buttons: [HTML] = quickTests.map { trial in
      let output = "repeat-\(trial.number)"
      return """
        <form method="post" action="/studies/\(snapshot.id)/runs/\(trial.number)/repeats" class="controls">
        <button type="submit" data-promote="/api/v1/studies/\(snapshot.id)/trials/\(trial.number)/repeats" \
        data-output="\(output)">Run more repeats of trial \(trial.number)</button>\
        <span id="\(output)" class="message" role="status" aria-live="polite"></span></form>
        """
    }
    return "\(buttons)"
  }

  /// Each metric of each pair of configurations with repeats: the difference, its interval
  /// and both tests' p-values.
  func significanceTable() -> HTML {
    guard !comparison.significance.isEmpty else { return .empty }
    let rows: [HTML] = comparison.significance.map { test in
      let significant = test.pValue < 0.05
      return """
        <tr\(significant ? HTML(raw: " class=\"differs\"") : .empty)><th scope="row">\(test.metric)</th>\
        <td>trial \(test.first) − trial \(test.second)</td><td class="num">\(String(format: "%+.4g", test.difference))</td>\
        <td class="num">[\(NumberText.of(test.lower)), \(NumberText.of(test.upper))]</td>\
        <td class="num">\(Improvement.pText(test.pValue))</td><td class="num">\(test.rankPValue.map(Improvement.pText) ?? "–")</td>\
        <td class="num">\(test.counts.map(String.init).joined(separator: " vs "))</td></tr>
        """
    }
    return """
      <section aria-labelledby="significance-title"><h2 id="significance-title">Differences over repeats</h2>
      <table class="compare-significance"><caption>Mean difference with its 95% confidence interval; Welch's \
      t-test and the Mann-Whitney rank test (two-sided); highlighted rows have p &lt; 0.05</caption><thead><tr>\
      <th scope="col">metric</th><th scope="col">pair</th><th scope="col" class="num">difference</th>\
      <th scope="col" class="num">95% interval</th><th scope="col" class="num">p (Welch)</th>\
      <th scope="col" class="num">p (rank)</th><th scope="col" class="num">repeats</th></tr></thead>\
      <tbody>\(rows)</tbody></table></section>
      """
  }

  func page() -> Page {
    let numbers = runs.map { String($0.number) }.joined(separator: ", ")
    return Page(
      title: "compare \(numbers) · \(snapshot.study.name)",
      crumbs: [
        ("studies", "/"), ("\(snapshot.study.name) (study \(snapshot.id))", "/studies/\(snapshot.id)"),
        ("compare \(numbers)", nil),
      ],
      parts: [("comparison", { try content() })], events: "/api/v1/studies/\(snapshot.id)/events",
      liveParts: ["comparison"]
    ) { part in
      "<h1>Comparing trials \(numbers)</h1>\(try part("comparison"))"
    }
  }

  func content() throws -> HTML {
    let header: [HTML] = zip(runs, comparison.tiers).map { trial, tier in
      "<th scope=\"col\" class=\"num\"><a href=\"/studies/\(snapshot.id)/runs/\(trial.number)\">trial \(trial.number)</a><br>\(tier) · \(trial.state.rawValue)</th>"
    }
    let metricRows: [HTML] = comparison.metrics.map { row in
      let direction = StudyPage.direction(of: row.name, snapshot)
      let cells: [HTML] = zip(row.values, row.changes).enumerated().map { index, pair in
        let (value, change) = pair
        guard index > 0, let change else { return "<td class=\"num\">\(value ?? "–")</td>" }
        let better = direction == .maximize ? change > 0 : change < 0
        let kind = change == 0 ? "" : better ? "better" : "worse"
        return
          "<td class=\"num\">\(value ?? "–") <span class=\"\(kind)\">(\(String(format: "%+.1f%%", change)))</span></td>"
      }
      return
        "<tr\(row.differs ? HTML(raw: " class=\"differs\"") : .empty)><th scope=\"row\">\(row.name)</th>\(cells)</tr>"
    }
    let parameterRows: [HTML] = comparison.parameters.map { row in
      let cells: [HTML] = row.values.map { value in
        row.differs ? "<td class=\"num\"><mark>\(value ?? "–")</mark></td>" : "<td class=\"num\">\(value ?? "–")</td>"
      }
      return
        "<tr\(row.differs ? HTML(raw: " class=\"differs\"") : .empty)><th scope=\"row\">\(row.differs ? "≠ " : "")\(row.name)</th>\(cells)</tr>"
    }
    var button: HTML = .empty
    if let trial = recommended {
      if let full = snapshot.fullTrainingOf[trial.id!] {
        button =
          "<p>Trial \(trial.number) already has a full training: <a href=\"/studies/\(snapshot.id)/runs/\(full.number)\">trial \(full.number)</a> (\(full.state.rawValue)).</p>"
      } else {
        button = PromoteButton(snapshot: snapshot, trial: trial, label: "Run full training with trial \(trial.number)")
          .render()
      }
    }
    return """
      <section aria-labelledby="rec-title"><h2 id="rec-title">Recommendation</h2>
      <p class="recommendation">\(comparison.recommendation)</p>\(button)\(repeatButtons())</section>
      \(significanceTable())
      <section aria-labelledby="metrics-title"><h2 id="metrics-title">Metrics</h2>
      <table class="compare-metrics"><caption>Final values; the change is against the first trial \
      (green: better, red: worse)</caption><thead><tr><th scope="col">metric</th>\(header)</tr></thead><tbody>\(metricRows)</tbody></table></section>
      <section aria-labelledby="config-title"><h2 id="config-title">Configuration</h2>
      <table class="compare-config"><caption>Highlighted rows differ between the runs</caption><thead><tr>\
      <th scope="col">parameter</th>\(header)</tr></thead><tbody>\(parameterRows)</tbody></table></section>
      <section aria-labelledby="curves-title"><h2 id="curves-title">Curves</h2>\(try curves())</section>
      <p><a href="/api/v1/studies/\(snapshot.id)/compare?trials=\(runs.map { String($0.number) }.joined(separator: ","))">JSON</a></p>
      """
  }

  /// The histories of the objective and up to three other shared metrics, all runs overlaid
  /// (one query for every run).
  func curves() throws -> HTML {
    let histories = try database.metrics(trialIds: runs.map { $0.id! })
    let shared = comparison.metrics.map(\.name).prefix(4)
    let charts: [HTML] = shared.map { name in
      let series = runs.enumerated().map { index, trial in
        SVGLineChart.Series(
          name: "trial \(trial.number)",
          points: (histories[trial.id!] ?? []).filter { $0.name == name }.map { (Double($0.step), $0.value) },
          style: .line, colour: index)
      }
      return SVGLineChart(
        title: "\(name) by step", xLabel: "step", yLabel: name, series: series, width: 480, height: 220
      ).render()
    }
    return "<div class=\"two\">\(charts)</div>"
  }
}
