import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

/// The data of an interactive chart, as the JSON charts.js reads from a
/// `<script type="application/json">` inside the chart's figure. Written by hand: a chart of
/// every trial's curve holds up to 400,000 numbers, which JSONEncoder writes several times
/// slower. Strings are escaped for JSON and `<`, `>`, `&` as \u escapes, so no text from a
/// study can close the script element.
enum ChartJSON {
  /// `{"title", "x", "y", "logX", "categories", "study", "series": [{"name", "style", "colour",
  /// "x": [...], "y": [...], "t": [trial numbers] or "trial": n}]}`: each series' points as
  /// given (on a log axis, the values themselves; uPlot draws the log scale).
  static func lineChart(_ chart: SVGLineChart, study: Int64) -> String {
    var out = "{\"title\":\(string(chart.title)),\"x\":\(string(chart.xLabel)),\"y\":\(string(chart.yLabel))"
    out += ",\"logX\":\(chart.logX),\"study\":\(study)"
    if let categories = chart.xCategories {
      out += ",\"categories\":[\(categories.map(string).joined(separator: ","))]"
    }
    out += ",\"series\":["
    for (index, series) in chart.series.enumerated() {
      let points = series.points.indices.filter { series.points[$0].x.isFinite && series.points[$0].y.isFinite }
      if index > 0 { out += "," }
      let style =
        switch series.style {
        case .line: "line"
        case .steps: "steps"
        case .points: "points"
        }
      out += "{\"name\":\(string(series.name)),\"style\":\"\(style)\",\"colour\":\(series.colour)"
      out += ",\"x\":[" + points.map { number(series.points[$0].x) }.joined(separator: ",") + "]"
      out += ",\"y\":[" + points.map { number(series.points[$0].y) }.joined(separator: ",") + "]"
      if let trials = series.trials {
        if trials.count == 1 {
          out += ",\"trial\":\(trials[0])"
        } else if trials.count == series.points.count {
          out += ",\"t\":[" + points.map { String(trials[$0]) }.joined(separator: ",") + "]"
        }
      }
      out += "}"
    }
    out += "]}"
    return "<script type=\"application/json\" class=\"chart-data\">\(out)</script>"
  }

  /// What a tooltip says of each trial a part draws: `{"objective", "params": [names],
  /// "trials": {"12": [tier, state, value, [parameter values as shown]]}}`.
  static func trialTable(_ snapshot: StudySnapshot, numbers: Set<Int>) -> HTML {
    let names = snapshot.parameterNames
    var out = "{\"objective\":\(string(snapshot.objective)),\"params\":[\(names.map(string).joined(separator: ","))]"
    out += ",\"trials\":{"
    var first = true
    for trial in snapshot.trials where numbers.contains(trial.number) {
      let configuration = snapshot.configurations[trial.id!] ?? Configuration()
      let values = names.map { configuration[$0].map { string(Format.parameter($0)) } ?? "null" }
      out += (first ? "" : ",") + "\"\(trial.number)\":[\"\(trial.tier.rawValue)\",\"\(trial.state.rawValue)\","
      out += (trial.value.map(number) ?? "null") + ",[\(values.joined(separator: ","))]]"
      first = false
    }
    out += "}}"
    return HTML(raw: "<script type=\"application/json\" class=\"trial-table\">\(out)</script>")
  }

  /// A number to 7 significant digits (Float's shortest text; a chart and its tooltips show
  /// 5): every trial's curve of 10,000 trials is then half the text Double's 17 digits make.
  static func number(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    let magnitude = abs(value)
    guard magnitude > 1e-30, magnitude < 1e30 else { return String(value) }
    return String(Float(value))
  }

  /// A JSON string literal that is also safe inside a script element.
  static func string(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "<": out += "\\u003c"
      case ">": out += "\\u003e"
      case "&": out += "\\u0026"
      case "\u{2028}": out += "\\u2028"
      case "\u{2029}": out += "\\u2029"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
