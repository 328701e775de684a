import Foundation
import Hummingbird
import SearchStrategies
import StudyModel
import TrackingBridge

/// Ranges brushed on the parallel coordinates (`?brush=lr:0.2:0.6;val_accuracy:0.8:0.9`): per
/// parameter axis the brushed stretch of the axis as positions from 0 (bottom) to 1 (top),
/// mapped as the chart maps values (log scale, categories); for the objective's axis the
/// values themselves. The runs table keeps the trials inside every range.
struct ParallelBrush {
  struct Range: Equatable {
    var axis: String
    var low: Double
    var high: Double
  }

  var ranges: [Range] = []
  static let maxRanges = 64

  init() {}

  /// Reads `brush`: entries `NAME:LOW:HIGH` (NAME percent-encoded) separated by `;`.
  init(_ text: String?) throws {
    guard let text, !text.isEmpty else { return }
    let entries = text.split(separator: ";")
    guard entries.count <= Self.maxRanges else {
      throw HTTPError(.badRequest, message: "brush holds at most \(Self.maxRanges) ranges, found \(entries.count)")
    }
    for entry in entries {
      let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 3, let low = Double(parts[1]), let high = Double(parts[2]), low.isFinite, high.isFinite,
        low <= high, let name = String(parts[0]).removingPercentEncoding, !name.isEmpty
      else {
        throw HTTPError(
          .badRequest,
          message: "brush must be ranges NAME:LOW:HIGH (LOW ≤ HIGH, numbers) separated by ';', found \"\(entry)\"")
      }
      ranges.append(Range(axis: name, low: low, high: high))
    }
  }

  var isEmpty: Bool { ranges.isEmpty }

  /// The ranges as `?brush=` spells them.
  var text: String? {
    guard !ranges.isEmpty else { return nil }
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-_.~")
    return ranges.map {
      "\($0.axis.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.axis):\($0.low):\($0.high)"
    }
    .joined(separator: ";")
  }

  /// Whether a trial lies inside every range, with the axes mapped as the chart of `tier` maps them.
  func filter(_ snapshot: StudySnapshot, tier: Tier?) throws -> (TrialRecord) -> Bool {
    guard !ranges.isEmpty else { return { _ in true } }
    let chart = ParallelCoordinates(snapshot: snapshot, tier: tier)
    let completed = snapshot.trials.filter {
      $0.state == .completed && $0.value?.isFinite == true && (tier == nil || $0.tier == tier)
    }
    var tests: [(TrialRecord) -> Bool] = []
    for range in ranges {
      if range.axis == snapshot.objective {
        tests.append { trial in trial.value.map { $0.isFinite && $0 >= range.low && $0 <= range.high } ?? false }
        continue
      }
      guard snapshot.parameterNames.contains(range.axis) else {
        throw HTTPError(
          .badRequest,
          message:
            "brush: \"\(range.axis)\" is not an axis of the parallel coordinates (\((snapshot.parameterNames + [snapshot.objective]).joined(separator: ", ")))"
        )
      }
      let mapper = chart.axisMapper(range.axis, completed)
      // The chart draws positions to 0.1 px of a 236 px axis: a little slack keeps a line
      // drawn on a range's edge inside it.
      let slack = 1e-3
      tests.append { trial in
        guard let value = snapshot.configurations[trial.id!]?[range.axis], let unit = mapper.unit(value) else {
          return false
        }
        return unit >= range.low - slack && unit <= range.high + slack
      }
    }
    return { trial in tests.allSatisfy { $0(trial) } }
  }

  /// "lr 0.2–0.6 of its axis, val_accuracy 0.8–0.9", for the table's caption.
  func described(_ snapshot: StudySnapshot) -> String {
    ranges.map { range in
      range.axis == snapshot.objective
        ? "\(range.axis) \(Format.value(range.low))–\(Format.value(range.high))"
        : "\(range.axis) \(Self.describe(range, snapshot))"
    }.joined(separator: ", ")
  }

  /// A parameter's range in its own values when the study's space knows how the axis maps.
  static func describe(_ range: Range, _ snapshot: StudySnapshot) -> String {
    guard let parameter = snapshot.spec?.space.parameter(named: range.axis) else {
      return "\(Int(range.low * 100))–\(Int(range.high * 100))% of its axis"
    }
    if case .categorical(let values) = parameter.domain {
      let inside = values.enumerated().filter { index, _ in
        let unit = values.count > 1 ? Double(index) / Double(values.count - 1) : 0.5
        return unit >= range.low - 1e-3 && unit <= range.high + 1e-3
      }.map { Format.parameter($0.element) }
      return inside.isEmpty ? "none" : inside.joined(separator: " or ")
    }
    return
      "\(Format.parameter(parameter.value(atUnit: range.low)))–\(Format.parameter(parameter.value(atUnit: range.high)))"
  }
}
