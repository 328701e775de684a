import MultiObjective
import SearchStrategies
import TrackingBridge
import TrialScheduler

/// A study of several objectives on the dashboard: the trials in the plane of two chosen
/// objectives (the Pareto front over all objectives drawn and joined, dominated trials faded,
/// infeasible ones apart, the registered one marked) and the hypervolume by trial.
struct FrontView {
  let snapshot: StudySnapshot
  let spec: StudySpec
  /// The two objectives to draw (`?fx=...&fy=...`); the first two by default.
  let x: StudySpec.Objective
  let y: StudySpec.Objective
  /// The study's front, computed once for both charts.
  let front: ParetoFront

  init(snapshot: StudySnapshot, spec: StudySpec, query: [String: String]) {
    self.snapshot = snapshot
    self.spec = spec
    let pick = { (key: String, fallback: Int) in
      spec.objectives.first { $0.metric == query[key] } ?? spec.objectives[fallback]
    }
    let x = pick("fx", 0)
    var y = pick("fy", 1)
    if y == x { y = spec.objectives.first { $0 != x } ?? y }
    self.x = x
    self.y = y
    front = ParetoFront.of(spec: spec, trials: snapshot.trials, finalMetrics: snapshot.finalMetrics)
  }

  func controls() -> HTML {
    guard spec.objectives.count > 2 else { return HTML.empty }
    let options = { (chosen: StudySpec.Objective) -> [HTML] in
      spec.objectives.map { objective in
        "<option\(objective == chosen ? " selected" : "")>\(objective.metric)</option>"
      }
    }
    return """
      <form class="pickers" method="get"><label>x <select name="fx">\(options(x))</select></label> \
      <label>y <select name="fy">\(options(y))</select></label> <button type="submit">Show</button></form>
      """
  }

  func plane() -> HTML {
    let members = Set(front.members.compactMap(\.trial.id))
    // Each point with its trial: hover names it, a click opens its run.
    typealias Points = [(point: (x: Double, y: Double), trial: Int)]
    var dominated: Points = []
    var infeasible: Points = []
    var registered: Points = []
    var frontPoints: Points = []
    for trial in snapshot.trials where trial.tier == front.tier && trial.state == .completed {
      guard let id = trial.id, let metrics = snapshot.finalMetrics[id], let a = metrics[x.metric],
        let b = metrics[y.metric]
      else { continue }
      if snapshot.registeredTrialIds.contains(id) { registered.append(((a, b), trial.number)) }
      if spec.violation(of: metrics) > 0 {
        infeasible.append(((a, b), trial.number))
      } else if !members.contains(id) {
        dominated.append(((a, b), trial.number))
      }
    }
    for member in front.members {
      if let a = member.metrics[x.metric], let b = member.metrics[y.metric] {
        frontPoints.append(((a, b), member.trial.number))
      }
    }
    frontPoints.sort { $0.point.x < $1.point.x }
    let series = { (name: String, points: Points, style: SVGLineChart.Style, colour: Int) in
      SVGLineChart.Series(
        name: name, points: points.map(\.point), style: style, colour: colour, trials: points.map(\.trial))
    }
    var all = [
      series("dominated", dominated, .points, 6),
      series("Pareto front (\(front.members.count))", frontPoints, .line, 0),
    ]
    if !infeasible.isEmpty { all.append(series("infeasible (\(infeasible.count))", infeasible, .points, 1)) }
    if !registered.isEmpty { all.append(series("registered", registered, .points, 4)) }
    let chart = SVGLineChart(
      title: "\(y.metric) (\(y.direction.rawValue)) against \(x.metric) (\(x.direction.rawValue))",
      xLabel: "\(x.metric) (\(x.direction.rawValue))", yLabel: "\(y.metric) (\(y.direction.rawValue))",
      series: all, study: snapshot.id
    ).render()
    let numbers = Set((dominated + frontPoints + infeasible + registered).map(\.trial))
    return chart + ChartJSON.trialTable(snapshot, numbers: numbers)
  }

  /// The hypervolume of the feasible trials so far, after each of up to 200 trials, with
  /// every objective scaled to [0, 1] over the study's feasible trials and the reference
  /// point at 1.1.
  func hypervolumeCurve() -> HTML {
    let tier = front.tier
    var points: [(number: Int, losses: [Double])] = []
    for trial in snapshot.trials where trial.tier == tier && trial.state == .completed {
      guard let id = trial.id, let metrics = snapshot.finalMetrics[id], spec.violation(of: metrics) == 0 else {
        continue
      }
      let losses = spec.objectives.compactMap { objective in metrics[objective.metric].map(objective.direction.loss) }
      if losses.count == spec.objectives.count, losses.allSatisfy(\.isFinite) { points.append((trial.number, losses)) }
    }
    guard !points.isEmpty else { return "<p class=\"empty\">Hypervolume: no feasible completed trial yet.</p>" }
    let m = spec.objectives.count
    let low = (0..<m).map { i in points.map { $0.losses[i] }.min()! }
    let high = (0..<m).map { i in points.map { $0.losses[i] }.max()! }
    let scaled = points.map { point in
      (0..<m).map { i in high[i] > low[i] ? (point.losses[i] - low[i]) / (high[i] - low[i]) : 0 }
    }
    let stride = max(1, points.count / 200)
    var curve: [(x: Double, y: Double)] = []
    for end in Swift.stride(from: 0, to: points.count, by: stride) + [points.count - 1]
    where curve.last?.x != Double(points[end].number) {
      let volume = Hypervolume.of(Array(scaled[...end]), reference: [Double](repeating: 1.1, count: m))
      curve.append((Double(points[end].number), volume))
    }
    return SVGLineChart(
      title: "hypervolume of the feasible trials by trial number", xLabel: "trial", yLabel: "hypervolume (scaled)",
      series: [.init(name: "hypervolume", points: curve, style: .steps, colour: 2)]
    ).render()
  }
}
