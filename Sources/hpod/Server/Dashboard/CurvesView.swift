import Foundation
import Hummingbird
import SearchStrategies
import TrackingBridge
import TrialScheduler

/// Every trial's curve: one metric by step for each trial, quick tests and full trainings in
/// their own colours, each pruned trial's last point marked where it stopped, and the early
/// stopping rule's threshold where it is cheap to know (the median rule's median of the
/// completed quick tests at each step, the threshold rule's bounds). Server-rendered SVG; each
/// curve names its trial on hover (its SVG title).
struct CurvesView {
  let snapshot: StudySnapshot
  let metric: String
  /// The metric's points of every trial, by trial id, in step order.
  let histories: [Int64: [CurvePoint]]
  /// The trials drawn (`chosenTrials`), when known already.
  var drawn: [TrialRecord]?

  /// Beyond this many curves the chart draws the best ones and a stride of the rest, and says so.
  static let maxCurves = 2000
  /// Beyond this many points a curve keeps a stride of them, and its last.
  static let maxPointsPerCurve = 200

  /// The chart of `metric`: the histories of the trials it draws, or of every trial when the
  /// rule's threshold is computed from them all.
  static func read(_ snapshot: StudySnapshot, metric: String, database: AppDatabase) throws -> CurvesView {
    let empty = CurvesView(snapshot: snapshot, metric: metric, histories: [:])
    let drawn = empty.chosenTrials()
    let histories =
      empty.thresholdsNeedEveryCurve
      ? try database.metricHistories(studyId: snapshot.id, name: metric)
      : try database.metricHistories(trialIds: drawn.compactMap(\.id), name: metric)
    return CurvesView(snapshot: snapshot, metric: metric, histories: histories, drawn: drawn)
  }

  /// Whether the early-stopping rule's threshold drawn on this metric is read from every
  /// trial's curve (the median rule's medians, the threshold rule's last step).
  var thresholdsNeedEveryCurve: Bool {
    guard let stopping = snapshot.spec?.earlyStopping, stopping.metric == metric else { return false }
    switch stopping.rule {
    case .median, .threshold: return true
    default: return false
    }
  }

  /// The last value of `metric` of each trial that reported it (the snapshot's).
  func finalValue(_ trial: TrialRecord) -> Double? { snapshot.finalMetrics[trial.id!]?[metric] }

  /// The metric the picker asked for (the objective by default), checked.
  static func metric(_ query: [String: String], _ snapshot: StudySnapshot) throws -> String {
    let metric = query["curve_metric"].flatMap { $0.isEmpty ? nil : $0 } ?? snapshot.objective
    guard snapshot.metricNames.contains(metric) else {
      throw HTTPError(
        .badRequest,
        message: "curve_metric must be one the trials reported: \(snapshot.metricNames.joined(separator: ", "))")
    }
    return metric
  }

  func controls() -> HTML {
    let options: [HTML] = snapshot.metricNames.map {
      "<option value=\"\($0)\"\($0 == metric ? HTML(raw: " selected") : .empty)>\($0)</option>"
    }
    return """
      <form class="controls" method="get" action="/studies/\(snapshot.id)" data-refresh="curves">
      <label for="curve-metric">metric<select id="curve-metric" name="curve_metric">\(options)</select></label>
      <noscript><button type="submit">Show</button></noscript></form>
      """
  }

  func render() -> HTML {
    let drawn = drawn ?? chosenTrials()
    guard !drawn.isEmpty else { return "<p class=\"empty\">No trial reported \(metric) yet.</p>" }
    var series: [SVGLineChart.Series] = []
    var stops: [(x: Double, y: Double)] = []
    var stopTrials: [Int] = []
    let grid = commonSteps(drawn)
    for trial in drawn {
      guard let history = histories[trial.id!], !history.isEmpty else { continue }
      let points = thinned(history, to: grid).map { (x: Double($0.step), y: $0.value) }
      let stopped = trial.state == .pruned
      let colour = trial.tier == .fullTraining ? 2 : stopped ? 6 : 0
      let last = points.last!
      let name =
        "trial \(trial.number) · \(trial.tier.rawValue) · \(trial.state.rawValue)"
        + (stopped ? " at step \(Int(last.x))" : "") + " · \(metric) \(Format.value(last.y))"
      series.append(
        .init(
          name: name, points: points, style: points.count == 1 ? .points : .line, colour: colour,
          trials: [trial.number]))
      if stopped {
        stops.append(last)
        stopTrials.append(trial.number)
      }
    }
    var legend: [(name: String, colour: Int)] = [("quick tests", 0), ("full trainings", 2)]
    if !stops.isEmpty {
      series.append(
        .init(name: "pruned: where each stopped", points: stops, style: .points, colour: 1, trials: stopTrials))
      legend += [("pruned quick tests", 6), ("where a pruned trial stopped", 1)]
    }
    for (name, points) in thresholds() {
      series.append(.init(name: name, points: points, style: .steps, colour: 3))
      legend.append((name, 3))
    }
    let reporting = snapshot.trials.filter { finalValue($0) != nil }.count
    let caption: HTML =
      drawn.count < reporting
      ? "<p class=\"note\">\(drawn.count) of \(reporting) curves drawn: the best \(Self.maxCurves / 2) and an even share of the rest.</p>"
      : "<p class=\"note\">Every trial that reported \(metric): \(reporting) curves.</p>"
    let chart = SVGLineChart(
      title: "\(metric) by step, every trial", xLabel: "step", yLabel: metric, series: series, width: 960,
      height: 320, legend: legend, study: snapshot.id
    ).render()
    let table = ChartJSON.trialTable(snapshot, numbers: Set(drawn.map(\.number)))
    return "<div data-curves=\"\(drawn.count)\">\(chart)\(caption)\(table)</div>"
  }

  /// The trials with points, in number order; past `maxCurves`, the best half by final value
  /// and an even stride of the others. Works on positions, and copies only the records drawn.
  func chosenTrials() -> [TrialRecord] {
    let trials = snapshot.trials
    var reporting: [Int] = []
    var finals: [Double] = []
    for (index, trial) in trials.enumerated() {
      if let value = finalValue(trial) {
        reporting.append(index)
        finals.append(value)
      }
    }
    guard reporting.count > Self.maxCurves else { return reporting.map { trials[$0] } }
    let direction = StudyPage.direction(of: metric, snapshot)
    let ranked = finals.indices.sorted { a, b in
      finals[a] == finals[b] ? a < b : direction.isBetter(finals[a], than: finals[b])
    }
    var chosen = Set(ranked.prefix(Self.maxCurves / 2))
    let rest = reporting.indices.filter { !chosen.contains($0) }
    let stride = max(1, rest.count / (Self.maxCurves / 2))
    for (offset, position) in rest.enumerated() where offset % stride == 0 { chosen.insert(position) }
    return reporting.indices.filter { chosen.contains($0) }.map { trials[reporting[$0]] }
  }

  /// The steps every thinned curve keeps: all steps the drawn curves have when they are at most
  /// `maxPointsPerCurve`, else an even share of them. One grid for all the curves keeps the
  /// interactive chart's table of steps × trials small (curves that each kept their own stride
  /// of steps would together hold nearly every step).
  func commonSteps(_ drawn: [TrialRecord]) -> Set<Int>? {
    var steps = Set<Int>()
    for trial in drawn { for point in histories[trial.id!] ?? [] { steps.insert(point.step) } }
    guard steps.count > Self.maxPointsPerCurve else { return nil }
    let sorted = steps.sorted()
    let stride = (sorted.count + Self.maxPointsPerCurve - 1) / Self.maxPointsPerCurve
    return Set(sorted.enumerated().filter { $0.offset % stride == 0 }.map(\.element))
  }

  /// A curve's points on the common grid of steps, and its last point.
  func thinned(_ points: [CurvePoint], to grid: Set<Int>?) -> [CurvePoint] {
    guard let grid else { return points }
    var kept = points.filter { grid.contains($0.step) }
    if kept.last != points.last { kept.append(points.last!) }
    return kept
  }

  /// The rule's threshold by step, when the study stops early on this metric.
  func thresholds() -> [(String, [(x: Double, y: Double)])] {
    guard let stopping = snapshot.spec?.earlyStopping, stopping.metric == metric else { return [] }
    switch stopping.rule {
    case .median(_, let minTrials):
      // The median rule compares with the completed quick tests' values at each step.
      var byStep: [Int: [Double]] = [:]
      for trial in snapshot.trials where trial.tier == .quickTest && trial.state == .completed {
        for point in histories[trial.id!] ?? [] where point.value.isFinite {
          byStep[point.step, default: []].append(point.value)
        }
      }
      let medians = byStep.filter { $0.value.count >= minTrials }.sorted { $0.key < $1.key }.map { step, values in
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return (
          x: Double(step), y: sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        )
      }
      return medians.isEmpty ? [] : [("median rule: median of the completed quick tests", medians)]
    case .threshold(let lower, let upper, let minSteps):
      let steps = histories.values.flatMap { $0.map(\.step) }
      guard let last = steps.max() else { return [] }
      let span = [Double(minSteps), Double(max(last, minSteps))]
      return [("threshold rule: lower bound", lower), ("threshold rule: upper bound", upper)].compactMap {
        name, bound in
        bound.map { bound in (name, span.map { (x: $0, y: bound) }) }
      }
    default:
      return []
    }
  }
}
