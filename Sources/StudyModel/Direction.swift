/// Which way the objective improves.
public enum Direction: String, Sendable, Hashable, Codable, CaseIterable {
  case minimize
  case maximize

  /// `true` when `a` is strictly better than `b`.
  public func isBetter(_ a: Double, than b: Double) -> Bool {
    self == .minimize ? a < b : a > b
  }

  /// The value turned into a loss: minimizing the result minimizes the objective.
  public func loss(_ value: Double) -> Double {
    self == .minimize ? value : -value
  }
}
