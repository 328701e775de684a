import Foundation
import Hummingbird
import SearchStrategies
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

/// One study: summary cards, best-so-far curve, parameter importance, every trial's curve,
/// slices and the objective's distribution, the heatmap with its pickers, parallel coordinates
/// and the runs table; every part refreshed live.
struct StudyPage {
  let snapshot: StudySnapshot
  let query: [String: String]
  /// Where every trial's curve is read from (the chart is left out without it).
  var database: AppDatabase?

  var id: Int64 { snapshot.id }

  func page() throws -> Page {
    let runsQuery = try RunsTable.Query(query)
    let heatmapChoice = try heatmapSelection()
    let curveMetric = try CurvesView.metric(query, snapshot)
    let keep: [(String, String?)] = [
      ("x", query["x"]), ("y", query["y"]), ("metric", query["metric"]), ("view", query["view"]),
      ("curve_metric", query["curve_metric"]),
    ]
    let study = snapshot.study
    let front = snapshot.spec.flatMap {
      $0.isMultiObjective ? FrontView(snapshot: snapshot, spec: $0, query: query) : nil
    }
    let frontParts: [(name: String, render: () throws -> HTML)] =
      front.map { front in
        [
          ("front", { snapshot.memo.value("part front \(front.x.metric) \(front.y.metric)") { front.plane() } }),
          ("hypervolume", { snapshot.memo.value("part hypervolume") { front.hypervolumeCurve() } }),
        ]
      } ?? []
    let lineageParts = LineageView.parts(snapshot, database: database)
    let parts: [(name: String, render: () throws -> HTML)] =
      // The slowest part first: the page renders its parts side by side (`concurrentParts`).
      [("curves", { try curves(curveMetric) })] + frontParts + lineageParts + [
        // Parts that depend on the study alone are rendered once per snapshot.
        ("cards", { snapshot.memo.value("part cards") { cards() } }),
        ("curve", { snapshot.memo.value("part curve") { curve() } }),
        ("importance", { snapshot.memo.value("part importance") { importance() } }),
        ("slices", { snapshot.memo.value("part slices") { SlicesView(snapshot: snapshot).slices() } }),
        ("ecdf", { snapshot.memo.value("part ecdf") { SlicesView(snapshot: snapshot).ecdf() } }),
        ("heatmap", { heatmap(heatmapChoice) }),
        ("contour", { contour(heatmapChoice) }),
        (
          "parallel",
          {
            snapshot.memo.value("part parallel \(heatmapChoice.tier?.rawValue ?? "all")") {
              ParallelCoordinates(snapshot: snapshot, tier: heatmapChoice.tier).render()
            }
          }
        ),
        (
          "runs",
          {
            try RunsTable(
              snapshot: snapshot, query: runsQuery, keep: keep, notes: try database?.trialNotes(studyId: id) ?? [:]
            ).render()
          }
        ),
      ]
    let live =
      (frontParts + lineageParts).map(\.name) + [
        "cards", "curve", "importance", "curves", "slices", "ecdf", "heatmap", "contour", "parallel", "runs",
      ]
    return Page(
      title: study.name, crumbs: [("studies", "/"), ("\(study.name) (study \(id))", nil)], parts: parts,
      events: "/api/v1/studies/\(id)/events", liveParts: live, metricParts: ["cards", "runs"], charts: true,
      concurrentParts: true
    ) { part in
      """
      <h1>\(study.name) <span class="badge \(study.state.rawValue)">\(study.state.rawValue)</span></h1>
      <p>Study \(id) · \(snapshot.spec?.search.algorithm.rawValue ?? "") search · \(objectivesText()) · started \(Format.date(study.createdAt))\
      \(study.stateReason.map { " · " + $0 } ?? "")</p>
      \(query["message"].map { "<p class=\"message\" role=\"status\">\($0)</p>" } ?? HTML.empty)\(PauseControls.study(study))
      \(try database.map { NoteView.block(try $0.studyNote(studyId: id), action: "/studies/\(id)/note", of: "study") } ?? HTML.empty)
      \(try part("cards"))
      \(try front.map { front in
        """
        <div class="two"><section aria-labelledby="front-title"><h2 id="front-title">Pareto front</h2>\(front.controls())\(try part("front"))</section>
        <section aria-labelledby="hypervolume-title"><h2 id="hypervolume-title">Hypervolume</h2>\(try part("hypervolume"))</section></div>
        """
      } ?? HTML.empty)
      \(try LineageView.section(lineageParts, part))
      <div class="two"><section aria-labelledby="curve-title"><h2 id="curve-title">Best so far</h2>\(try part("curve"))</section>
      <section aria-labelledby="importance-title"><h2 id="importance-title">Parameter importance</h2>\(try part("importance"))</section></div>
      \(database == nil ? HTML.empty : """
        <section aria-labelledby="curves-title"><h2 id="curves-title">Every trial's curve</h2>\
        \(CurvesView(snapshot: snapshot, metric: curveMetric, histories: [:]).controls())\(try part("curves"))</section>
        """)
      <section aria-labelledby="slices-title"><h2 id="slices-title">\(snapshot.objective) by each parameter</h2>\(try part("slices"))</section>
      <section aria-labelledby="ecdf-title"><h2 id="ecdf-title">Distribution of \(snapshot.objective)</h2>\(try part("ecdf"))</section>
      <section aria-labelledby="heatmap-title"><h2 id="heatmap-title">Heatmap and contour</h2>\(heatmapControls(heatmapChoice))\
      <div class="two">\(try part("heatmap"))\(try part("contour"))</div></section>
      <section aria-labelledby="parallel-title"><h2 id="parallel-title">Parallel coordinates</h2>\(try part("parallel"))</section>
      <section aria-labelledby="runs-title"><h2 id="runs-title">Runs</h2>\(runsControls(runsQuery))\(try part("runs"))</section>
      """
    }
  }

  // MARK: Cards

  func cards() -> HTML {
    let study = snapshot.study
    let quick = snapshot.trials.filter { $0.tier == .quickTest }
    let full = snapshot.trials.filter { $0.tier == .fullTraining }
    let finishedQuick = snapshot.finishedSearchTrials
    let budget = snapshot.spec?.search.maxTrials
    let running = snapshot.trials.filter { $0.state == .running }.count
    let share = budget.map { min(1, Double(finishedQuick) / Double(max($0, 1))) } ?? 0
    let count = { (trials: [TrialRecord], state: TrialState) in trials.filter { $0.state == state }.count }
    var cards: [HTML] = []
    cards.append(
      """
      <div class="card"><h3>Progress</h3><div class="big">\(finishedQuick)\(budget.map { " / \($0)" } ?? "")</div>
      <div class="progress" role="progressbar" aria-label="search progress" aria-valuemin="0" aria-valuemax="100" \
      aria-valuenow="\(Int(share * 100))"><span style="width:\(Int(share * 100))%"></span></div>
      <dl><dt>state</dt><dd>\(study.state.rawValue)</dd><dt>running</dt><dd>\(running)</dd></dl></div>
      """)
    cards.append(
      """
      <div class="card"><h3>Quick tests run</h3><div class="big">\(quick.count)</div><dl>\
      <dt>completed</dt><dd>\(count(quick, .completed))</dd><dt>pruned</dt><dd>\(count(quick, .pruned))</dd>\
      <dt>failed</dt><dd>\(count(quick, .failed) + count(quick, .timedOut))</dd></dl></div>
      """)
    let fullList: [HTML] = full.suffix(4).map { trial in
      "<dt><a href=\"/studies/\(id)/runs/\(trial.number)\">trial \(trial.number)</a></dt><dd>\(trial.state.rawValue) \(Format.value(trial.value))</dd>"
    }
    cards.append(
      """
      <div class="card"><h3>Full trainings</h3><div class="big">\(full.count)</div><dl>\(fullList)</dl>\
      \(snapshot.pendingPromotions.isEmpty ? HTML.empty : "<p>\(snapshot.pendingPromotions.count) requested, waiting for a slot</p>")</div>
      """)
    if let spec = snapshot.spec, spec.isMultiObjective {
      cards.append(
        Self.frontCard(
          ParetoFront.of(spec: spec, trials: snapshot.trials, finalMetrics: snapshot.finalMetrics), study: id))
    } else if let best = snapshot.best() {
      let configuration = snapshot.configurations[best.id!] ?? Configuration()
      let params: [HTML] = configuration.map { "<dt>\($0.key)</dt><dd>\(Format.parameter($0.value))</dd>" }
      cards.append(
        """
        <div class="card best-card"><h3>Best \(snapshot.objective)</h3><div class="big">\(Format.value(snapshot.rankedValue(best)))</div>\
        \(snapshot.repeatSummary(of: best).map { "<p>\(Format.repeats($0))</p>" } ?? HTML.empty)
        <p><a href="/studies/\(id)/runs/\(best.number)">trial \(best.number)</a> · \(best.tier.rawValue)</p><dl>\(params)</dl></div>
        """)
    } else {
      cards.append(
        "<div class=\"card\"><h3>Best \(snapshot.objective)</h3><p class=\"empty\">no completed trial yet</p></div>")
    }
    if let warmStart = snapshot.warmStart { cards.append(Self.warmStartCard(warmStart)) }
    if let (version, alias) = snapshot.currentModel {
      let trial = snapshot.trial(id: version.trialId)
      let link: HTML =
        trial.map { "<a href=\"/studies/\(id)/runs/\($0.number)\">trial \($0.number)</a>" }
        ?? "from study \(version.studyId)"
      cards.append(
        """
        <div class="card"><h3>Registered model</h3><div class="big">\(version.modelName) v\(version.version)</div>
        <p>\(alias.map { "alias " + $0 + " · " } ?? "")\(snapshot.objective) \(Format.value(version.value)) · \(link)</p>
        <dl><dt>met</dt><dd>\(version.conditions)</dd><dt>versions</dt><dd>\(snapshot.modelVersions.count) from this study</dd></dl></div>
        """)
    } else {
      let conditions = snapshot.spec?.registration.map { $0.conditions.map(\.description).joined(separator: " and ") }
      cards.append(
        """
        <div class="card"><h3>Registered model</h3><p class="empty">none yet\
        \(conditions.map { ": registers when " + $0 } ?? " (the study has no registration section)")</p></div>
        """)
    }
    let warnings: [HTML] = snapshot.unreportedMetricWarnings.map { "<p class=\"warning\">Warning: \($0)</p>" }
    return "\(warnings)<div class=\"cards\">\(cards)</div>"
  }

  /// "objective: maximize val_accuracy", or every objective and the constraints.
  func objectivesText() -> HTML {
    guard let spec = snapshot.spec, spec.isMultiObjective || !spec.constraints.isEmpty else {
      return "objective: \(snapshot.direction.rawValue) <strong>\(snapshot.objective)</strong>"
    }
    let objectives: [HTML] = spec.objectives.enumerated().map { index, objective in
      "\(index > 0 ? ", " : "")\(objective.direction.rawValue) <strong>\(objective.metric)</strong>"
    }
    let constraints = spec.constraints.map(\.description).joined(separator: " and ")
    return
      "objective\(spec.objectives.count > 1 ? "s" : ""): \(objectives)\(constraints.isEmpty ? "" : " · constraints: " + constraints)"
  }

  /// A study of several objectives has no one best: the front's size and its first members.
  static func frontCard(_ front: ParetoFront, study: Int64) -> HTML {
    let members: [HTML] = front.members.prefix(4).map { member in
      let values = front.objectives.map { "\($0.metric) \(Format.value(member.metrics[$0.metric]))" }
      return
        "<dt><a href=\"/studies/\(study)/runs/\(member.trial.number)\">trial \(member.trial.number)</a></dt><dd>\(values.joined(separator: " · "))</dd>"
    }
    let infeasible: HTML = front.infeasible > 0 ? "<p>\(front.infeasible) infeasible, left off</p>" : HTML.empty
    return """
      <div class="card best-card"><h3>Pareto front</h3><div class="big">\(front.members.count)</div>\
      <p>feasible \(front.tier.rawValue) configurations no other beats on every objective</p>\(infeasible)<dl>\(members)</dl></div>
      """
  }

  /// The other study's trials the search started from: they feed the model, but are not this
  /// study's runs and used none of its budget.
  static func warmStartCard(_ warmStart: Result<WarmStartHistory, WarmStartUnreadable>) -> HTML {
    switch warmStart {
    case .success(let history):
      let source = history.source
      let outside: HTML =
        history.outsideSpace > 0
        ? "<dt>outside this space</dt><dd>\(history.outsideSpace), left out</dd>" : HTML.empty
      return """
        <div class="card warm-start"><h3>Warm start</h3><div class="big">\(history.observations.count)</div>
        <p>finished configurations of <a href="/studies/\(source.id ?? 0)">study \(source.name)</a> feed the search; \
        they are not this study's runs and use none of its budget</p><dl>\(outside)</dl></div>
        """
    case .failure(let problem):
      return "<div class=\"card warm-start\"><h3>Warm start</h3><p class=\"empty\">\(problem.description)</p></div>"
    }
  }

  // MARK: Curve

  func curve() -> HTML {
    let quick = snapshot.trials.filter { $0.tier == .quickTest && $0.state == .completed && $0.value?.isFinite == true }
    var best: TrialRecord?
    var steps: [TrialRecord] = []
    for trial in quick where best == nil || snapshot.direction.isBetter(trial.value!, than: best!.value!) {
      best = trial
      steps.append(trial)
    }
    let stride = max(1, quick.count / 1500)
    let drawn = quick.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
    let full = snapshot.trials.filter { $0.tier == .fullTraining && $0.state == .completed && $0.value != nil }
    let points = { (trials: [TrialRecord]) in trials.map { (x: Double($0.number), y: $0.value!) } }
    var stepPoints = points(steps)
    var stepTrials = steps.map(\.number)
    if let last = snapshot.trials.last, let best, last.number != best.number {
      stepPoints.append((Double(last.number), best.value!))
      stepTrials.append(best.number)
    }
    var series = [
      SVGLineChart.Series(
        name: "quick tests", points: points(drawn), style: .points, colour: 0, trials: drawn.map(\.number)),
      SVGLineChart.Series(
        name: "best quick test so far", points: stepPoints, style: .steps, colour: 1, trials: stepTrials),
    ]
    if !full.isEmpty {
      series.append(
        .init(name: "full trainings", points: points(full), style: .points, colour: 2, trials: full.map(\.number)))
    }
    let chart = SVGLineChart(
      title: "best \(snapshot.objective) so far by trial number", xLabel: "trial", yLabel: snapshot.objective,
      series: series, study: id
    ).render()
    return chart + ChartJSON.trialTable(snapshot, numbers: Set((drawn + steps + full).map(\.number)))
  }

  // MARK: Importance

  func importance() -> HTML { ImportanceView(snapshot: snapshot).render() }

  /// Every trial's curve of `metric`, read once per snapshot and metric.
  func curves(_ metric: String) throws -> HTML {
    guard let database else { return HTML.empty }
    return try snapshot.memo.value("part curves \(metric)") {
      try CurvesView.read(snapshot, metric: metric, database: database).render()
    }
  }

  // MARK: Heatmap

  struct HeatmapChoice {
    var x: String?
    var y: String?
    var metric: String
    var tier: Tier?
  }

  func heatmapSelection() throws -> HeatmapChoice {
    let names = snapshot.parameterNames
    var tier: Tier?
    if let text = query["view"], !text.isEmpty, text != "all" {
      guard let parsed = Tier(rawValue: text) else {
        throw HTTPError(.badRequest, message: "view must be quick_test, full_training or all, found \"\(text)\"")
      }
      tier = parsed
    }
    for key in ["x", "y"] {
      if let name = query[key], !name.isEmpty, !names.contains(name) {
        throw HTTPError(
          .badRequest,
          message: "\(key) must be one of the study's parameters: \(names.joined(separator: ", ")); found \"\(name)\"")
      }
    }
    let metric = query["metric"].flatMap { $0.isEmpty ? nil : $0 } ?? snapshot.objective
    guard snapshot.metricNames.contains(metric) else {
      throw HTTPError(
        .badRequest,
        message: "metric must be one the trials reported: \(snapshot.metricNames.joined(separator: ", "))")
    }
    // Default axes: the two most important parameters, else the first two.
    var ranked = names
    if query["x"] == nil || query["y"] == nil {
      let scores = snapshot.importance
      ranked = scores.map(\.parameter) + names.filter { name in !scores.contains { $0.parameter == name } }
    }
    let x = query["x"].flatMap { $0.isEmpty ? nil : $0 } ?? ranked.first
    let y = query["y"].flatMap { $0.isEmpty ? nil : $0 } ?? ranked.first { $0 != x } ?? x
    return HeatmapChoice(x: x, y: y, metric: metric, tier: tier)
  }

  func heatmapControls(_ choice: HeatmapChoice) -> HTML {
    let options = { (values: [String], selected: String?) -> [HTML] in
      values.map { "<option value=\"\($0)\"\($0 == selected ? HTML(raw: " selected") : .empty)>\($0)</option>" }
    }
    let tiers: [(String, String)] = [
      ("all", "all"), ("quick_test", "quick tests"), ("full_training", "full trainings"),
    ]
    let tierOptions: [HTML] = tiers.map { value, label in
      "<option value=\"\(value)\"\(value == (choice.tier?.rawValue ?? "all") ? HTML(raw: " selected") : .empty)>\(label)</option>"
    }
    return """
      <form class="controls" method="get" action="/studies/\(id)" data-refresh="heatmap contour parallel">
      <label for="hm-x">x parameter<select id="hm-x" name="x">\(options(snapshot.parameterNames, choice.x))</select></label>
      <label for="hm-y">y parameter<select id="hm-y" name="y">\(options(snapshot.parameterNames, choice.y))</select></label>
      <label for="hm-metric">metric<select id="hm-metric" name="metric">\(options(snapshot.metricNames, choice.metric))</select></label>
      <label for="hm-view">trials<select id="hm-view" name="view">\(tierOptions)</select></label>
      <noscript><button type="submit">Show</button></noscript></form>
      """
  }

  func heatmap(_ choice: HeatmapChoice) -> HTML {
    guard let x = choice.x, let y = choice.y else {
      return "<p class=\"empty\">The study has no parameters to draw.</p>"
    }
    let key = "heatmap \(x) \(y) \(choice.metric) \(choice.tier?.rawValue ?? "all")"
    let result: Result<Heatmap, Heatmap.Failure> = snapshot.memo.value(key) {
      do throws(Heatmap.Failure) {
        return .success(
          try Heatmap.compute(
            trials: snapshot.trials, metrics: snapshot.finalMetrics, x: x, y: y, metric: choice.metric,
            objective: snapshot.objective, direction: Self.direction(of: choice.metric, snapshot), tier: choice.tier,
            registered: snapshot.registeredTrialIds, configurations: snapshot.configurations))
      } catch {
        return .failure(error)
      }
    }
    switch result {
    case .success(let map): return HeatmapView(heatmap: map, studyId: id).render()
    case .failure(let error): return "<p class=\"empty\">\(error.description)</p>"
    }
  }

  /// The contour over the heatmap's axes, metric and trials.
  func contour(_ choice: HeatmapChoice) -> HTML {
    guard let x = choice.x, let y = choice.y else { return .empty }
    return snapshot.memo.value("part contour \(x) \(y) \(choice.metric) \(choice.tier?.rawValue ?? "all")") {
      ContourView(snapshot: snapshot, x: x, y: y, metric: choice.metric, tier: choice.tier).render()
    }
  }

  /// The objective's direction; for another metric, `MetricDirection`'s guess from its name.
  static func direction(of metric: String, _ snapshot: StudySnapshot) -> Direction {
    if metric == snapshot.objective { return snapshot.direction }
    return MetricDirection.guess(metric)
  }

  // MARK: Runs controls

  func runsControls(_ query: RunsTable.Query) -> HTML {
    let states: [HTML] = TrialState.allCases.map { state in
      "<option value=\"\(state.rawValue)\"\(state == query.state ? HTML(raw: " selected") : .empty)>\(state.rawValue)</option>"
    }
    let tiers: [HTML] = Tier.allCases.map { tier in
      "<option value=\"\(tier.rawValue)\"\(tier == query.tier ? HTML(raw: " selected") : .empty)>\(tier.rawValue)</option>"
    }
    return """
      <form class="controls" method="get" action="/studies/\(id)" data-refresh="runs" role="search">
      <label for="runs-tier">tier<select id="runs-tier" name="tier"><option value="">all tiers</option>\(tiers)</select></label>
      <label for="runs-state">state<select id="runs-state" name="state"><option value="">all states</option>\(states)</select></label>
      <label for="runs-q">search<input id="runs-q" type="search" name="q" value="\(query.text)" placeholder="adam, lr=0.01, #17"></label>
      <noscript><button type="submit">Filter</button></noscript>
      <a href="/api/v1/studies/\(id)/export?format=csv" download>Export CSV</a>
      <a href="/api/v1/studies/\(id)/export?format=json">JSON</a></form>
      <form id="compare-form" class="controls" method="get" action="/studies/\(id)/compare">
      <button type="submit">Compare selected runs (2–4)</button></form>
      """
  }
}
