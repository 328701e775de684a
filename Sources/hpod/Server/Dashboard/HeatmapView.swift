import Foundation
import StudyAnalysis
import TrialScheduler

/// The heatmap as an SVG grid: each cell links to the trial that holds its value; the best
/// cell is starred, the cell of a registered model ringed and marked.
struct HeatmapView {
  let heatmap: Heatmap
  let studyId: Int64

  func render() -> HTML {
    let columns = heatmap.x.labels.count
    let rows = heatmap.y.labels.count
    let cell = max(44.0, min(96.0, 640.0 / Double(max(columns, 1))))
    let cellHeight = max(30.0, min(56.0, 360.0 / Double(max(rows, 1))))
    let longest = heatmap.y.labels.map(\.count).max() ?? 4
    let left = min(200.0, Double(longest) * 7 + 16)
    let top = 8.0
    let bottom = 64.0
    let width = left + cell * Double(columns) + 16
    let height = top + cellHeight * Double(rows) + bottom
    let values = heatmap.cells.map(\.value)
    let low = values.min() ?? 0
    let high = values.max() ?? 1
    let maximize = heatmap.direction == "maximize"
    var body = ""
    for (index, cellData) in heatmap.cells.enumerated() {
      let x = left + Double(cellData.x) * cell
      // The first y label at the bottom, like a plot.
      let y = top + Double(rows - 1 - cellData.y) * cellHeight
      var goodness = high > low ? (cellData.value - low) / (high - low) : 1
      if !maximize { goodness = 1 - goodness }
      let fill = Self.colour(goodness)
      let ink = goodness > 0.55 ? "#111" : "#fff"
      let isBest = heatmap.best == index
      let xLabel = heatmap.x.labels[cellData.x]
      let yLabel = heatmap.y.labels[cellData.y]
      var label =
        "\(heatmap.x.parameter) \(xLabel), \(heatmap.y.parameter) \(yLabel): \(heatmap.metric) \(Format.value(cellData.value)), trial \(cellData.trial), \(cellData.count) trial\(cellData.count == 1 ? "" : "s")"
      if isBest { label += ", best cell" }
      if cellData.registered { label += ", registered model" }
      let escaped = HTML.escape(label)
      body +=
        "<a href=\"/studies/\(studyId)/runs/\(cellData.trial)\" aria-label=\"\(escaped)\"><title>\(escaped)</title>"
      body +=
        "<rect class=\"cell\(isBest ? " best" : "")\(cellData.registered ? " registered" : "")\" data-x=\"\(cellData.x)\" data-y=\"\(cellData.y)\" data-value=\"\(cellData.value)\" data-trial=\"\(cellData.trial)\" data-count=\"\(cellData.count)\" x=\"\(HTML.coordinate(x + 1))\" y=\"\(HTML.coordinate(y + 1))\" width=\"\(HTML.coordinate(cell - 2))\" height=\"\(HTML.coordinate(cellHeight - 2))\" fill=\"\(fill)\"/>"
      body +=
        "<text class=\"cell-value\" x=\"\(HTML.coordinate(x + cell / 2))\" y=\"\(HTML.coordinate(y + cellHeight / 2 + 4))\" text-anchor=\"middle\" fill=\"\(ink)\">\(HTML.escape(Format.value(cellData.value)))</text>"
      if isBest {
        body +=
          "<text class=\"best-marker\" x=\"\(HTML.coordinate(x + cell - 10))\" y=\"\(HTML.coordinate(y + 13))\" text-anchor=\"middle\" fill=\"\(ink)\">★</text>"
      }
      if cellData.registered {
        body +=
          "<text class=\"registered-marker\" x=\"\(HTML.coordinate(x + 9))\" y=\"\(HTML.coordinate(y + 13))\" text-anchor=\"middle\" fill=\"\(ink)\">◆</text>"
      }
      body += "</a>"
    }
    for (index, label) in heatmap.x.labels.enumerated() {
      let x = left + (Double(index) + 0.5) * cell
      let y = top + Double(rows) * cellHeight + 14
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(x))\" y=\"\(HTML.coordinate(y))\" text-anchor=\"middle\">\(HTML.escape(label))</text>"
    }
    for (index, label) in heatmap.y.labels.enumerated() {
      let y = top + Double(rows - 1 - index) * cellHeight + cellHeight / 2 + 4
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(left - 6))\" y=\"\(HTML.coordinate(y))\" text-anchor=\"end\">\(HTML.escape(label))</text>"
    }
    body +=
      "<text class=\"label\" x=\"\(HTML.coordinate(left + cell * Double(columns) / 2))\" y=\"\(HTML.coordinate(height - 20))\" text-anchor=\"middle\">\(HTML.escape(heatmap.x.parameter))</text>"
    let title = HTML.escape(
      "\(heatmap.metric) (\(heatmap.direction), \(heatmap.tier)) over \(heatmap.x.parameter) × \(heatmap.y.parameter)")
    return HTML(
      raw: """
        <figure class="chart heatmap" data-cells="\(heatmap.cells.count)" data-best-trial="\(heatmap.best.map { String(heatmap.cells[$0].trial) } ?? "")">\
        <svg viewBox="0 0 \(HTML.coordinate(width)) \(HTML.coordinate(height))" width="\(HTML.coordinate(width))" role="img" aria-label="\(title)">\
        <title>\(title)</title>\(body)</svg>\
        <figcaption>\(title). Rows: \(HTML.escape(heatmap.y.parameter)). Each cell holds its best trial; ★ best cell, \
        ◆ registered model. Range \(HTML.escape(Format.value(low)))–\(HTML.escape(Format.value(high))).</figcaption></figure>
        """)
  }

  /// Viridis-like: poor values dark purple, good ones yellow.
  static func colour(_ t: Double) -> String {
    let stops: [(Double, Double, Double)] = [
      (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
    ]
    let clamped = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
    let index = min(Int(clamped), stops.count - 2)
    let f = clamped - Double(index)
    let (a, b) = (stops[index], stops[index + 1])
    let r = Int(a.0 + (b.0 - a.0) * f)
    let g = Int(a.1 + (b.1 - a.1) * f)
    let bl = Int(a.2 + (b.2 - a.2) * f)
    return String(format: "#%02x%02x%02x", r, g, bl)
  }
}
