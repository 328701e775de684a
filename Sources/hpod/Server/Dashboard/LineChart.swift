import Foundation

/// A line or scatter chart as inline SVG: metric histories, the best-so-far curve.
struct SVGLineChart {
  enum Style {
    case line
    case steps
    case points
  }

  struct Series {
    var name: String
    var points: [(x: Double, y: Double)]
    var style: Style = .line
    /// One of the palette's classes: s0...s5.
    var colour: Int = 0
    /// The trial of each point (or of the whole curve, when it holds one number): the
    /// interactive chart's tooltip names it and a click opens its run page.
    var trials: [Int]? = nil
  }

  var title: String
  var xLabel: String
  var yLabel: String
  var series: [Series]
  var width = 640.0
  var height = 260.0
  /// The legend's entries, when not one per series (a chart of hundreds of curves).
  var legend: [(name: String, colour: Int)]?
  /// A log-scaled x axis (a log-scaled parameter): x is drawn as log10(x), ticks at decades.
  var logX = false
  /// Names of the x values 0, 1, 2... (a categorical parameter), shown as the x ticks.
  var xCategories: [String]?
  /// The study whose trials the points are: the figure then carries its data as JSON for
  /// charts.js, which draws it with uPlot (hover, click, zoom); the SVG stays without JavaScript.
  var study: Int64?

  private let left = 64.0
  private let right = 16.0
  private let top = 12.0
  private let bottom = 40.0

  func render() -> HTML {
    // On a log axis, x is drawn as its logarithm (values that are not positive cannot be).
    let series =
      logX
      ? series.map { line in
        var line = line
        line.points = line.points.filter { $0.x > 0 }.map { (x: log10($0.x), y: $0.y) }
        return line
      } : series
    let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
    guard !all.isEmpty else {
      return "<p class=\"empty\">\(title): no points yet.</p>"
    }
    // An axis of whole numbers only (trial numbers, steps) gets whole-number ticks.
    let integerX = all.allSatisfy { $0.x == $0.x.rounded() }
    let integerY = all.allSatisfy { $0.y == $0.y.rounded() }
    var (x0, x1) = (all.map(\.x).min()!, all.map(\.x).max()!)
    var (y0, y1) = (all.map(\.y).min()!, all.map(\.y).max()!)
    if x0 == x1 { (x0, x1) = Self.around(x0, integer: integerX) }
    if y0 == y1 { (y0, y1) = Self.around(y0, integer: integerY) }
    let pad = (y1 - y0) * 0.05
    (y0, y1) = (y0 - pad, y1 + pad)
    let plotWidth = width - left - right
    let plotHeight = height - top - bottom
    let sx = { (x: Double) in left + (x - x0) / (x1 - x0) * plotWidth }
    let sy = { (y: Double) in top + (1 - (y - y0) / (y1 - y0)) * plotHeight }

    var body = ""
    for tick in Self.ticks(y0, y1, integer: integerY) {
      let y = sy(tick)
      body +=
        "<line class=\"grid\" x1=\"\(HTML.coordinate(left))\" x2=\"\(HTML.coordinate(width - right))\" y1=\"\(HTML.coordinate(y))\" y2=\"\(HTML.coordinate(y))\"/>"
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(left - 6))\" y=\"\(HTML.coordinate(y + 4))\" text-anchor=\"end\">\(HTML.escape(Format.value(tick)))</text>"
    }
    for (tick, label) in xTicks(x0, x1, integer: integerX) {
      let x = sx(tick)
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(x))\" y=\"\(HTML.coordinate(height - bottom + 16))\" text-anchor=\"middle\">\(HTML.escape(label))</text>"
    }
    body +=
      "<line class=\"axis\" x1=\"\(HTML.coordinate(left))\" x2=\"\(HTML.coordinate(left))\" y1=\"\(HTML.coordinate(top))\" y2=\"\(HTML.coordinate(height - bottom))\"/>"
    body +=
      "<line class=\"axis\" x1=\"\(HTML.coordinate(left))\" x2=\"\(HTML.coordinate(width - right))\" y1=\"\(HTML.coordinate(height - bottom))\" y2=\"\(HTML.coordinate(height - bottom))\"/>"
    body +=
      "<text class=\"label\" x=\"\(HTML.coordinate(left + plotWidth / 2))\" y=\"\(HTML.coordinate(height - 6))\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
    body +=
      "<text class=\"label\" transform=\"translate(14 \(HTML.coordinate(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
    for line in series {
      let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }
      guard !points.isEmpty else { continue }
      let name = HTML.escape(line.name)
      switch points.count == 1 ? .points : line.style {
      case .points:
        body += "<g class=\"points s\(line.colour)\"><title>\(name)</title>"
        for point in points {
          body += "<circle cx=\"\(HTML.coordinate(sx(point.x)))\" cy=\"\(HTML.coordinate(sy(point.y)))\" r=\"2.5\"/>"
        }
        body += "</g>"
      case .line, .steps:
        var path = ""
        var previous: (x: Double, y: Double)?
        for point in points {
          if let previous {
            if line.style == .steps { path += "L\(HTML.coordinate(sx(point.x))) \(HTML.coordinate(sy(previous.y)))" }
            path += "L\(HTML.coordinate(sx(point.x))) \(HTML.coordinate(sy(point.y)))"
          } else {
            path += "M\(HTML.coordinate(sx(point.x))) \(HTML.coordinate(sy(point.y)))"
          }
          previous = point
        }
        body += "<path class=\"series s\(line.colour)\" d=\"\(path)\"><title>\(name)</title></path>"
      }
    }
    let entries = legend ?? series.map { ($0.name, $0.colour) }
    let showsLegend = legend != nil || series.count > 1 || series.first?.style == .points
    let legendHTML =
      showsLegend
      ? "<ul class=\"legend\">"
        + entries.map { "<li><span class=\"swatch s\($0.colour)\"></span>\(HTML.escape($0.name))</li>" }.joined()
        + "</ul>" : ""
    let label = HTML.escape(title)
    let data = study.map { ChartJSON.lineChart(self, study: $0) } ?? ""
    return HTML(
      raw: """
        <figure class="chart"\(data.isEmpty ? "" : " data-chart=\"line\"")>\(data)<svg viewBox="0 0 \(HTML.coordinate(width)) \(HTML.coordinate(height))" \
        width="\(HTML.coordinate(width))" role="img" \
        aria-label="\(label)"><title>\(label)</title>\(body)</svg>\(legendHTML)</figure>
        """)
  }

  /// The x ticks and their labels: category names, decades on a log axis, else round values.
  func xTicks(_ x0: Double, _ x1: Double, integer: Bool) -> [(Double, String)] {
    if let xCategories {
      return xCategories.indices.filter { Double($0) >= x0 && Double($0) <= x1 }.map { (Double($0), xCategories[$0]) }
    }
    guard logX else { return Self.ticks(x0, x1, integer: integer).map { ($0, Format.value($0)) } }
    let all = Array(Int(ceil(x0))...Int(max(ceil(x0), floor(x1)))).map(Double.init).filter { $0 <= x1 }
    // At most about six decades labelled.
    let every = max(1, (all.count + 5) / 6)
    let decades = all.enumerated().filter { $0.offset % every == 0 }.map(\.element)
    let ticks = decades.count >= 2 ? decades : Self.ticks(x0, x1)
    return ticks.map { ($0, Format.value(pow(10, $0))) }
  }

  /// The range an axis of one value spans: the neighbouring whole numbers for a whole
  /// number (trial 300 spans 299 to 301), else a tenth of the value either side.
  static func around(_ value: Double, integer: Bool) -> (Double, Double) {
    if integer { return (value - 1, value + 1) }
    let pad = value == 0 ? 1 : abs(value) * 0.1
    return (value - pad, value + pad)
  }

  /// About five round tick values spanning [a, b]; whole numbers only when `integer`
  /// (no trial 2.5 between trials 2 and 3).
  static func ticks(_ a: Double, _ b: Double, integer: Bool = false) -> [Double] {
    let span = b - a
    guard span > 0, span.isFinite else { return [a] }
    let raw = span / 5
    let magnitude = pow(10, floor(log10(raw)))
    let steps = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.filter { !integer || ($0 >= 1 && $0 == $0.rounded()) }
    let step = steps.first { $0 >= raw } ?? (integer ? max(1, (raw).rounded(.up)) : raw)
    var ticks: [Double] = []
    var tick = ceil(a / step) * step
    while tick <= b + step * 1e-9, ticks.count < 12 {
      ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
      tick += step
    }
    return ticks
  }
}
