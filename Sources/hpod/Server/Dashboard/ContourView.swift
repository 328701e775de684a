import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

/// A contour plot of a metric over two parameters, beside the heatmap and over the same
/// choice (axes, metric, tier): the plane filled in bands of the value interpolated from the
/// trials (inverse-distance weighting of the nearest ones, in the axes' own scale: log for a
/// log-scaled parameter, one slot per category), the trials drawn on it as dots that open
/// their run, the best starred. Server-rendered SVG.
struct ContourView {
  let snapshot: StudySnapshot
  let x: String
  let y: String
  let metric: String
  let tier: Tier?

  static let resolution = 40
  static let bands = 10
  static let neighbours = 8
  /// Past this many trials the interpolation and the dots use an even share of them (the best kept).
  static let maxPoints = 1000

  struct Axis {
    var name: String
    var categories: [String]?
    var log = false
    var low = 0.0
    var high = 1.0

    /// Where a value sits on the axis, 0...1.
    func unit(_ value: ParameterValue) -> Double? {
      if let categories {
        return categories.firstIndex(of: value.shown).map { (Double($0) + 0.5) / Double(categories.count) }
      }
      guard var v = value.numericValue, v.isFinite else { return nil }
      var (a, b) = (low, high)
      if log {
        guard v > 0, a > 0 else { return nil }
        (v, a, b) = (Foundation.log10(v), Foundation.log10(a), Foundation.log10(b))
      }
      guard b > a else { return 0.5 }
      return min(max((v - a) / (b - a), 0), 1)
    }

    /// Tick positions (0...1) and labels: the categories, decades on a log axis, round values.
    func ticks() -> [(Double, String)] {
      if let categories {
        return categories.enumerated().map { ((Double($0.offset) + 0.5) / Double(categories.count), $0.element) }
      }
      let (a, b) = log ? (Foundation.log10(low), Foundation.log10(high)) : (low, high)
      guard b > a else { return [(0.5, Format.value(low))] }
      var values = SVGLineChart.ticks(a, b)
      if log {
        let decades = Array(Int(ceil(a))...Int(max(ceil(a), floor(b)))).map(Double.init).filter { $0 <= b }
        if decades.count >= 2 { values = decades }
      }
      return values.map { ((($0 - a) / (b - a)), Format.value(log ? pow(10, $0) : $0)) }
    }
  }

  func axis(_ name: String, _ trials: [TrialRecord]) -> Axis {
    if let parameter = snapshot.spec?.space.parameter(named: name) {
      switch parameter.domain {
      case .categorical(let values): return Axis(name: name, categories: values.map(\.shown))
      case .float(let lo, let hi, let log, _): return Axis(name: name, log: log && lo > 0, low: lo, high: hi)
      case .int(let lo, let hi, let log, _):
        return Axis(name: name, log: log && lo > 0, low: Double(lo), high: Double(hi))
      }
    }
    let seen = trials.compactMap { snapshot.configurations[$0.id!]?[name] }
    let numbers = seen.compactMap(\.numericValue)
    if numbers.count == seen.count, let lo = numbers.min(), let hi = numbers.max() {
      return Axis(name: name, low: lo, high: hi)
    }
    return Axis(name: name, categories: Array(Set(seen.map(\.shown))).sorted())
  }

  struct Point {
    var trial: Int
    var u: Double
    var v: Double
    var value: Double
  }

  func render() -> HTML {
    guard x != y else { return "<p class=\"empty\">Contour: pick two different parameters.</p>" }
    let direction = StudyPage.direction(of: metric, snapshot)
    let value = { (trial: TrialRecord) -> Double? in
      let v = metric == snapshot.objective ? trial.value : snapshot.finalMetrics[trial.id!]?[metric]
      return v.flatMap { $0.isFinite ? $0 : nil }
    }
    var trials = snapshot.trials.filter {
      $0.state == .completed && (tier == nil || $0.tier == tier) && value($0) != nil
    }
    let (xAxis, yAxis) = (axis(x, trials), axis(y, trials))
    if trials.count > Self.maxPoints {
      let ranked = trials.ordered(by: { value($0)! }) { direction.isBetter($0, than: $1) }
      let best = Set(ranked.prefix(100).map(\.number))
      let stride = (trials.count + Self.maxPoints - 101) / (Self.maxPoints - 100)
      trials = trials.enumerated().filter { best.contains($0.element.number) || $0.offset % stride == 0 }.map(\.element)
    }
    let points = trials.compactMap { trial -> Point? in
      guard let configuration = snapshot.configurations[trial.id!], let a = configuration[x].flatMap(xAxis.unit),
        let b = configuration[y].flatMap(yAxis.unit)
      else { return nil }
      return Point(trial: trial.number, u: a, v: b, value: value(trial)!)
    }
    guard points.count >= 3 else {
      return
        "<p class=\"empty\">Contour of \(metric) over \(x) × \(y): needs 3 completed trials with both parameters.</p>"
    }
    let low = points.map(\.value).min()!
    let high = points.map(\.value).max()!
    let goodness = { (v: Double) -> Double in
      let t = high > low ? (v - low) / (high - low) : 1
      return direction == .maximize ? t : 1 - t
    }
    let (width, height, left, top, bottom, right) = (480.0, 360.0, 64.0, 10.0, 44.0, 12.0)
    let plotWidth = width - left - right
    let plotHeight = height - top - bottom
    let sx = { (u: Double) in left + u * plotWidth }
    let sy = { (v: Double) in top + (1 - v) * plotHeight }
    var body = ""
    // The bands: each row's runs of one band as one rectangle.
    let n = Self.resolution
    let cellWidth = plotWidth / Double(n)
    let cellHeight = plotHeight / Double(n)
    for row in 0..<n {
      let v = (Double(row) + 0.5) / Double(n)
      var bands: [Int] = []
      for column in 0..<n {
        let estimate = interpolate(points, (Double(column) + 0.5) / Double(n), v)
        bands.append(min(Self.bands - 1, Int(goodness(estimate) * Double(Self.bands))))
      }
      var start = 0
      for column in 1...n where column == n || bands[column] != bands[start] {
        let fill = HeatmapView.colour((Double(bands[start]) + 0.5) / Double(Self.bands))
        body +=
          "<rect class=\"level\" x=\"\(HTML.coordinate(left + Double(start) * cellWidth))\" y=\"\(HTML.coordinate(top + Double(n - 1 - row) * cellHeight))\" width=\"\(HTML.coordinate(Double(column - start) * cellWidth + 0.5))\" height=\"\(HTML.coordinate(cellHeight + 0.5))\" fill=\"\(fill)\"/>"
        start = column
      }
    }
    let best = points.min { direction.isBetter($0.value, than: $1.value) }!
    for point in points {
      let label = HTML.escape("trial \(point.trial): \(metric) \(Format.value(point.value))")
      let isBest = point.trial == best.trial
      body +=
        "<a href=\"/studies/\(snapshot.id)/runs/\(point.trial)\"><circle class=\"point\(isBest ? " best" : "")\" data-trial=\"\(point.trial)\" cx=\"\(HTML.coordinate(sx(point.u)))\" cy=\"\(HTML.coordinate(sy(point.v)))\" r=\"\(isBest ? 5 : 3)\" fill=\"\(HeatmapView.colour(goodness(point.value)))\"><title>\(label)</title></circle></a>"
    }
    body +=
      "<text class=\"best-marker\" x=\"\(HTML.coordinate(sx(best.u) + 7))\" y=\"\(HTML.coordinate(sy(best.v) - 5))\">★</text>"
    for (u, label) in xAxis.ticks() {
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(sx(u)))\" y=\"\(HTML.coordinate(height - bottom + 15))\" text-anchor=\"middle\">\(HTML.escape(label))</text>"
    }
    for (v, label) in yAxis.ticks() {
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(left - 6))\" y=\"\(HTML.coordinate(sy(v) + 4))\" text-anchor=\"end\">\(HTML.escape(label))</text>"
    }
    let xName = HTML.escape(x + (xAxis.log ? " (log)" : ""))
    let yName = HTML.escape(y + (yAxis.log ? " (log)" : ""))
    body +=
      "<text class=\"label\" x=\"\(HTML.coordinate(left + plotWidth / 2))\" y=\"\(HTML.coordinate(height - 8))\" text-anchor=\"middle\">\(xName)</text>"
    body +=
      "<text class=\"label\" transform=\"translate(14 \(HTML.coordinate(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(yName)</text>"
    let title = HTML.escape("contour of \(metric) (\(direction.rawValue)) over \(x) × \(y)")
    return HTML(
      raw: """
        <figure class="chart contour" data-points="\(points.count)" data-best-trial="\(best.trial)">\
        <svg viewBox="0 0 \(HTML.coordinate(width)) \(HTML.coordinate(height))" width="\(HTML.coordinate(width))" role="img" aria-label="\(title)">\
        <title>\(title)</title>\(body)</svg>\
        <figcaption>\(title): the value between trials interpolated from the \(Self.neighbours) nearest, in \(Self.bands) bands \
        from worst (dark) to best (yellow), range \(HTML.escape(Format.value(low)))–\(HTML.escape(Format.value(high))); \
        the dots are the \(points.count) trials (each opens its run), ★ the best.</figcaption></figure>
        """)
  }

  /// Inverse-distance weighting of the nearest points (squared distance in the unit square).
  func interpolate(_ points: [Point], _ u: Double, _ v: Double) -> Double {
    var nearest: [(distance: Double, value: Double)] = []
    nearest.reserveCapacity(Self.neighbours + 1)
    for point in points {
      let d = (point.u - u) * (point.u - u) + (point.v - v) * (point.v - v)
      if nearest.count == Self.neighbours, d >= nearest[nearest.count - 1].distance { continue }
      let at = nearest.firstIndex { $0.distance > d } ?? nearest.count
      nearest.insert((d, point.value), at: at)
      if nearest.count > Self.neighbours { nearest.removeLast() }
    }
    var total = 0.0
    var weights = 0.0
    for (d, value) in nearest {
      if d < 1e-12 { return value }
      total += value / d
      weights += 1 / d
    }
    return total / weights
  }
}
