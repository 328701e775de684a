import Foundation

/// One metric line of the trial protocol: `hpod {"step": 3, "val_accuracy": 0.91}`.
///
/// Every numeric key but `step` is a metric. `"final": true` marks the values as the trial's
/// final results (they override the last reported ones). `NaN`, `Infinity` and `-Infinity`, as
/// Python's json module writes them (or as strings), are values too, stored as MLflow stores
/// them; their keys are also named in `nonFinite`. A `null` is named there with no value.
public struct MetricReport: Sendable, Hashable {
  public var step: Int?
  public var isFinal: Bool
  public var values: [String: Double]
  public var nonFinite: [String]
  /// `"checkpoint": "epoch-7"`: the trial saved a checkpoint of that name in its folder.
  public var checkpoint: String?

  /// Parses the text after the `hpod ` prefix; `nil` when it is not a JSON object of numbers.
  public static func parse(_ text: String) -> MetricReport? {
    guard let object = decode(text) ?? decode(Self.replacingNonFiniteTokens(text)) else { return nil }
    var report = MetricReport(step: nil, isFinal: false, values: [:], nonFinite: [])
    for (key, value) in object {
      switch (key, value) {
      case ("step", .number(let number)):
        guard number >= 0, number == number.rounded(), number < 1e15 else { return nil }
        report.step = Int(number)
      case ("step", _):
        return nil
      case ("final", .bool(let flag)):
        report.isFinal = flag
      case ("checkpoint", .text(let name)):
        report.checkpoint = name
      case (_, .number(let number)):
        report.values[key] = number
        if !number.isFinite { report.nonFinite.append(key) }
      case (_, .null):
        report.nonFinite.append(key)
      case (_, .bool), (_, .text), (_, .other):
        continue
      }
    }
    guard !report.values.isEmpty || !report.nonFinite.isEmpty || report.checkpoint != nil else { return nil }
    report.nonFinite.sort()
    return report
  }

  private enum Scalar: Decodable {
    case number(Double)
    case bool(Bool)
    case null
    case text(String)
    case other

    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if container.decodeNil() {
        self = .null
      } else if let flag = try? container.decode(Bool.self) {
        self = .bool(flag)
      } else if let number = try? container.decode(Double.self) {
        self = .number(number)
      } else if let text = try? container.decode(String.self) {
        self = Self.nonFinite[text].map { .number($0) } ?? .text(text)
      } else {
        self = .other
      }
    }

    static let nonFinite: [String: Double] = ["NaN": .nan, "Infinity": .infinity, "-Infinity": -.infinity]
  }

  private static func decode(_ text: String) -> [String: Scalar]? {
    try? JSONDecoder().decode([String: Scalar].self, from: Data(text.utf8))
  }

  /// Python's `json.dumps(float("nan"))` writes bare NaN/Infinity, which JSON does not allow:
  /// quoted, they decode as the strings `Scalar` reads as numbers.
  private static func replacingNonFiniteTokens(_ text: String) -> String {
    text.replacingOccurrences(of: "-Infinity", with: "\"-Inf\u{1}\"")
      .replacingOccurrences(of: "Infinity", with: "\"Infinity\"")
      .replacingOccurrences(of: "\"-Inf\u{1}\"", with: "\"-Infinity\"")
      .replacingOccurrences(of: "NaN", with: "\"NaN\"")
  }
}
