import Foundation

/// One value of one hyperparameter, as a trial receives it.
///
/// Values keep the type the user wrote in the spec: an `int` parameter yields `.int`, a
/// categorical of strings yields `.string`. They encode to plain JSON scalars.
public enum ParameterValue: Sendable, Hashable, Codable, CustomStringConvertible {
  case int(Int)
  case double(Double)
  case string(String)
  case bool(Bool)

  /// The value as a number, when it is one (booleans are not numbers).
  public var numericValue: Double? {
    switch self {
    case .int(let value): Double(value)
    case .double(let value): value
    case .string, .bool: nil
    }
  }

  /// How the value is written into a command line placeholder or an environment variable.
  public var description: String {
    switch self {
    case .int(let value): String(value)
    case .double(let value): Self.format(value)
    case .string(let value): value
    case .bool(let value): value ? "true" : "false"
    }
  }

  /// Shortest text that reads back as the same double (`0.001`, `1e-05`, `3.0`).
  static func format(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
    return "\(value)"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int.self) {
      self = .int(value)
    } else if let value = try? container.decode(Double.self) {
      self = .double(value)
    } else {
      self = .string(try container.decode(String.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .int(let value): try container.encode(value)
    case .double(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .bool(let value): try container.encode(value)
    }
  }
}
