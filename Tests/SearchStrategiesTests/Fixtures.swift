import Foundation
import StudyModel

@testable import SearchStrategies

/// Shared fixtures: a mixed space every strategy (grid included) can search, and a cheap
/// objective over it.
enum Fixtures {
  /// float (grid points), float log (grid points), float step, int, int log, categorical, and a
  /// conditional float active only for `optimizer: sgd`.
  static let mixedSpace = SearchSpace([
    Parameter(name: "dropout", domain: .float(min: 0, max: 0.5, log: false, step: nil), gridPoints: 3),
    Parameter(name: "lr", domain: .float(min: 1e-4, max: 1e-1, log: true, step: nil), gridPoints: 3),
    .float("decay", 0, 1, step: 0.25),
    .int("layers", 1, 4),
    .int("hidden", 8, 256, log: true, step: 8),
    .categorical("optimizer", [.string("sgd"), .string("adam")]),
    Parameter(
      name: "momentum", domain: .float(min: 0, max: 0.9, log: false, step: nil),
      conditions: [Condition(parameter: "optimizer", values: [.string("sgd")])], gridPoints: 2),
  ])

  /// A smooth loss over the mixed space (lower near lr = 0.01, dropout = 0.2, 2 layers).
  static func loss(_ configuration: Configuration) -> Double {
    let lr = configuration["lr"]!.numericValue!
    let dropout = configuration["dropout"]!.numericValue!
    let layers = configuration["layers"]!.numericValue!
    var value = pow(log10(lr) + 2, 2) + pow(dropout - 0.2, 2) + 0.1 * pow(layers - 2, 2)
    if configuration["optimizer"] == .string("sgd") { value += 0.1 * configuration["momentum"]!.numericValue! }
    return value
  }

  static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
  static func log10(_ x: Double) -> Double { Foundation.log10(x) }
}
