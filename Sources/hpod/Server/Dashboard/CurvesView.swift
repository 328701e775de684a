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

  /// Beyond this many curves the chart draws the best ones and a stride of the rest, and says so.
  static let maxCurves = 2000
  /// Beyond this many points a curve keeps a stride of them, and its last.
  static let maxPointsPerCurve = 200

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
    let drawn = chosenTrials()
    guard !drawn.isEmpty else { return "<p class=\"empty\">No trial reported \(metric) yet.</p>" }
    var series: [SVGLineChart.Series] = []
    var stops: [(x: Double, y: Double)] = []
    var stopTrials: [Int] = []
    let grid = commonSteps(drawn)
    for trial in drawn {
      let points = thinned(histories[trial.id!]!, to: grid).map { (x: Double($0.step), y: $0.value) }
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
    let reporting = histories.keys.count
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
  /// and an even stride of the others.
  func chosenTrials() -> [TrialRecord] {
    let reporting = snapshot.trials.filter { histories[$0.id!]?.isEmpty == false }
    guard reporting.count > Self.maxCurves else { return reporting }
    let direction = StudyPage.direction(of: metric, snapshot)
    let ranked = reporting.sorted { a, b in
      direction.isBetter(histories[a.id!]!.last!.value, than: histories[b.id!]!.last!.value)
    }
    let best = Set(ranked.prefix(Self.maxCurves / 2).map(\.id!))
    let rest = reporting.filter { !best.contains($0.id!) }
    let stride = max(1, rest.count / (Self.maxCurves / 2))
    let others = Set(rest.enumerated().filter { $0.offset % stride == 0 }.map(\.element.id!))
    return reporting.filter { best.contains($0.id!) || others.contains($0.id!) }
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
