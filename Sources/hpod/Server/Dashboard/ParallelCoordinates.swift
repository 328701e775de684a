import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

/// Parallel coordinates as inline SVG: one vertical axis per parameter and one for the
/// objective, one line per completed trial, coloured by its value; the best trial on top.
struct ParallelCoordinates {
  let snapshot: StudySnapshot
  let tier: Tier?
  /// Lines drawn at most (the best ones always among them).
  static let maxLines = 1000

  func render() -> HTML {
    let direction = snapshot.direction
    var completed = snapshot.trials.filter {
      $0.state == .completed && $0.value?.isFinite == true && (tier == nil || $0.tier == tier)
    }
    guard completed.count >= 2, !snapshot.parameterNames.isEmpty else {
      return "<p class=\"empty\">Parallel coordinates: need at least 2 completed trials.</p>"
    }
    // Worst first, so the best are drawn last, on top.
    completed = completed.ordered(by: { $0.value! }) { a, b in direction.isBetter(b, than: a) }
    let total = completed.count
    if completed.count > Self.maxLines {
      let best = completed.suffix(100)
      let rest = completed.dropLast(100)
      let stride = Double(rest.count) / Double(Self.maxLines - 100)
      completed = (0..<(Self.maxLines - 100)).map { rest[rest.startIndex + Int(Double($0) * stride)] } + best
    }
    let names = snapshot.parameterNames
    let axes = names.count + 1
    let width = max(560.0, Double(axes) * 120)
    let height = 300.0
    let top = 24.0
    let bottom = 40.0
    let left = 50.0
    let spacing = (width - 2 * left) / Double(axes - 1)
    let plot = height - top - bottom
    let values = completed.map { $0.value! }
    let low = values.min()!
    let high = values.max()!
    let mappers = names.map { axisMapper($0, completed) }

    var body = ""
    for (index, trial) in completed.enumerated() {
      let configuration = snapshot.configurations[trial.id!] ?? Configuration()
      var path = ""
      for (axis, mapper) in mappers.enumerated() {
        let unit = configuration[names[axis]].flatMap(mapper.unit) ?? -0.06
        path +=
          (axis == 0 ? "M" : "L") + "\(HTML.coordinate(left + Double(axis) * spacing)) "
          + HTML.coordinate(top + (1 - unit) * plot)
      }
      var goodness = high > low ? (trial.value! - low) / (high - low) : 1
      if direction == .minimize { goodness = 1 - goodness }
      path += "L\(HTML.coordinate(left + Double(axes - 1) * spacing)) " + HTML.coordinate(top + (1 - goodness) * plot)
      let isBest = index == completed.count - 1
      body +=
        "<path class=\"pc-line\(isBest ? " best" : "")\" data-trial=\"\(trial.number)\" d=\"\(path)\" stroke=\"\(HeatmapView.colour(goodness))\"><title>trial \(trial.number): \(HTML.escape(Format.value(trial.value)))</title></path>"
    }
    for (axis, name) in (names + [snapshot.objective]).enumerated() {
      let x = left + Double(axis) * spacing
      // What charts.js needs to brush a range on the axis: its ends, and for the objective
      // the values at its bottom and top.
      let objective =
        axis < mappers.count
        ? ""
        : " data-objective data-low=\"\(direction == .maximize ? low : high)\" data-high=\"\(direction == .maximize ? high : low)\""
      body +=
        "<line class=\"axis pc-axis\" data-name=\"\(HTML.escape(name))\" data-top=\"\(HTML.coordinate(top))\" data-bottom=\"\(HTML.coordinate(top + plot))\"\(objective) x1=\"\(HTML.coordinate(x))\" x2=\"\(HTML.coordinate(x))\" y1=\"\(HTML.coordinate(top))\" y2=\"\(HTML.coordinate(top + plot))\"/>"
      body +=
        "<text class=\"label\" x=\"\(HTML.coordinate(x))\" y=\"\(HTML.coordinate(height - 8))\" text-anchor=\"middle\">\(HTML.escape(name))</text>"
      let (lowLabel, highLabel) =
        axis < mappers.count
        ? (mappers[axis].lowLabel, mappers[axis].highLabel)
        : direction == .maximize
          ? (Format.value(low), Format.value(high)) : (Format.value(high), Format.value(low))
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(x + 4))\" y=\"\(HTML.coordinate(top - 6))\">\(HTML.escape(highLabel))</text>"
      body +=
        "<text class=\"tick\" x=\"\(HTML.coordinate(x + 4))\" y=\"\(HTML.coordinate(top + plot + 14))\">\(HTML.escape(lowLabel))</text>"
    }
    let title = HTML.escape(
      "Parallel coordinates of \(completed.count) of \(total) completed trials; the objective axis has the best at the top"
    )
    return HTML(
      raw: """
        <figure class="chart parallel" data-lines="\(completed.count)"><svg viewBox="0 0 \(HTML.coordinate(width)) \
        \(HTML.coordinate(height))" width="\(HTML.coordinate(width))" role="img" aria-label="\(title)"><title>\(title)</title>\(body)</svg>\
        <figcaption>\(title). Drag along an axis to keep the runs table to the trials inside the range (a click on the axis clears it).</figcaption></figure>
        """)
  }

  struct AxisMapper {
    var unit: (ParameterValue) -> Double?
    var lowLabel: String
    var highLabel: String
  }

  /// Where a parameter's values sit on its axis: the spec's domain (log scale included) when
  /// known, else the range of the values seen; categories evenly spaced.
  func axisMapper(_ name: String, _ trials: [TrialRecord]) -> AxisMapper {
    let seen = trials.compactMap { snapshot.configurations[$0.id!]?[name] }
    if let parameter = snapshot.spec?.space.parameter(named: name) {
      switch parameter.domain {
      case .categorical(let values):
        return categorical(values.map(\.description))
      case .float(let lo, let hi, _, _):
        return AxisMapper(unit: { parameter.unit(of: $0) }, lowLabel: Format.value(lo), highLabel: Format.value(hi))
      case .int(let lo, let hi, _, _):
        return AxisMapper(unit: { parameter.unit(of: $0) }, lowLabel: String(lo), highLabel: String(hi))
      }
    }
    let numbers = seen.compactMap(\.numericValue)
    if numbers.count == seen.count, let lo = numbers.min(), let hi = numbers.max() {
      return AxisMapper(
        unit: { value in value.numericValue.map { hi > lo ? ($0 - lo) / (hi - lo) : 0.5 } },
        lowLabel: Format.value(lo), highLabel: Format.value(hi))
    }
    return categorical(Array(Set(seen.map(\.description))).sorted())
  }

  func categorical(_ values: [String]) -> AxisMapper {
    let index = Dictionary(values.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    return AxisMapper(
      unit: { value in
        index[value.description].map { values.count > 1 ? Double($0) / Double(values.count - 1) : 0.5 }
      }, lowLabel: values.first ?? "", highLabel: values.last ?? "")
  }
}
