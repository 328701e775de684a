import Foundation
import NumberText

/// How much one configuration's repeated values improve on another's, and how sure that is by
/// Welch's test of the difference, in the direction the metric improves.
public struct Improvement: Sendable, Hashable, Codable {
  /// Of the first sample minus the second.
  public var welch: WelchTest
  public var higherIsBetter: Bool

  /// Nil when either sample has fewer than two values.
  public init?(_ first: [Double], over second: [Double], higherIsBetter: Bool, confidenceLevel: Double = 0.95) {
    guard let welch = WelchTest(first, second, confidenceLevel: confidenceLevel) else { return nil }
    self.welch = welch
    self.higherIsBetter = higherIsBetter
  }

  /// Positive when the first sample is better.
  public var amount: Double { higherIsBetter ? welch.difference : -welch.difference }
  /// The confidence interval's half-width.
  public var margin: Double { welch.margin }
  public var pValue: Double { welch.pValue }

  /// Better, with Welch's p below `alpha`.
  public func isSignificant(at alpha: Double) -> Bool { pValue < alpha && amount > 0 }

  /// "1.2 ± 0.4, p = 0.003" (the amount in the metric's units, 95% interval).
  public var phrase: String {
    "\(Self.number(abs(amount))) ± \(Self.number(margin)), \(Self.pText(pValue))"
  }

  /// "p = 0.031", "p < 0.001".
  public static func pText(_ p: Double) -> String {
    p < 0.001 ? "p < 0.001" : "p = \(NumberText.of(p, digits: 2))"
  }

  static func number(_ value: Double) -> String { NumberText.of(value, digits: 3) }
}
