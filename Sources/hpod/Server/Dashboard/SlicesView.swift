import Foundation
import SearchStrategies
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

/// The plots analysts read beside the heatmap: the objective against each parameter (slice),
/// on a log axis where the parameter is log-scaled and by name for a categorical one, and the
/// empirical distribution (ECDF) of the objective over the completed quick tests.
struct SlicesView {
  let snapshot: StudySnapshot
  /// Past this many trials a slice draws an even share of them (every full training is drawn).
  static let maxPoints = 1500

  var quickTests: [TrialRecord] {
    snapshot.trials.filter { $0.tier == .quickTest && $0.state == .completed && $0.value?.isFinite == true }
  }

  func slices() -> HTML {
    let quick = quickTests
    guard !quick.isEmpty else { return "<p class=\"empty\">No completed quick test yet.</p>" }
    let every = max(1, quick.count / Self.maxPoints)
    let drawn = quick.enumerated().filter { $0.offset % every == 0 }.map(\.element)
    let full = snapshot.trials.filter {
      $0.tier == .fullTraining && $0.state == .completed && $0.value?.isFinite == true
    }
    let charts: [HTML] = snapshot.parameterNames.map { name in
      let parameter = snapshot.spec?.space.parameter(named: name)
      var categories: [String]?
      var log = false
      switch parameter?.domain {
      case .float(_, _, let isLog, _), .int(_, _, let isLog, _): log = isLog
      case .categorical(let values): categories = values.map(\.shown)
      case nil: break
      }
      let observed = (drawn + full).compactMap { snapshot.configurations[$0.id!]?[name] }
      if categories == nil, observed.contains(where: { $0.numericValue == nil }) {
        categories = Array(Set(observed.map(\.shown))).sorted()
      }
      let position = { (value: ParameterValue) -> Double? in
        if let categories { return categories.firstIndex(of: value.shown).map(Double.init) }
        return value.numericValue
      }
      let series = { (label: String, trials: [TrialRecord], colour: Int) -> SVGLineChart.Series in
        var series = SVGLineChart.Series(name: label, points: [], style: .points, colour: colour, trials: [])
        for trial in trials {
          guard let value = snapshot.configurations[trial.id!]?[name], let x = position(value) else { continue }
          series.points.append((x, trial.value!))
          series.trials!.append(trial.number)
        }
        return series
      }
      var drawnSeries = [series("quick tests", drawn, 0)]
      if !full.isEmpty { drawnSeries.append(series("full trainings", full, 2)) }
      return SVGLineChart(
        title: "\(snapshot.objective) by \(name)\(log ? " (log scale)" : "")", xLabel: log ? "\(name) (log)" : name,
        yLabel: snapshot.objective, series: drawnSeries, width: 420, height: 240, logX: log, xCategories: categories,
        study: snapshot.id
      ).render()
    }
    let note: HTML =
      drawn.count < quick.count
      ? "<p class=\"note\">\(drawn.count) of \(quick.count) quick tests drawn (an even share).</p>" : HTML.empty
    let table = ChartJSON.trialTable(snapshot, numbers: Set((drawn + full).map(\.number)))
    return "<div class=\"slices\">\(charts)</div>\(note)\(table)"
  }

  /// The share of completed quick tests whose objective is at most each value; each point is
  /// a trial (hover names it, a click opens its run).
  func ecdf() -> HTML {
    let ranked = quickTests.ordered(by: { $0.value! }) { $0 < $1 }
    guard let last = ranked.last else { return "<p class=\"empty\">No completed quick test yet.</p>" }
    let every = max(1, ranked.count / Self.maxPoints)
    var drawn = ranked.enumerated().filter { $0.offset % every == 0 }.map {
      (point: (x: $0.element.value!, y: Double($0.offset + 1) / Double(ranked.count)), trial: $0.element.number)
    }
    if drawn.last?.point.y != 1 { drawn.append(((last.value!, 1), last.number)) }
    let chart = SVGLineChart(
      title: "share of the \(ranked.count) completed quick tests with \(snapshot.objective) at most x",
      xLabel: snapshot.objective, yLabel: "share of trials",
      series: [
        .init(
          name: "empirical distribution", points: drawn.map(\.point), style: .steps, colour: 0,
          trials: drawn.map(\.trial))
      ], study: snapshot.id
    ).render()
    return chart + ChartJSON.trialTable(snapshot, numbers: Set(drawn.map(\.trial)))
  }
}
