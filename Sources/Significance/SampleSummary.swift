/// The mean, standard deviation and count of a sample: how a value repeated over seeds or
/// folds is shown everywhere.
public struct SampleSummary: Sendable, Hashable, Codable {
  public var mean: Double
  /// The sample standard deviation (n − 1 in the denominator); nil for fewer than two values.
  public var standardDeviation: Double?
  public var count: Int

  enum CodingKeys: String, CodingKey {
    case mean, count
    case standardDeviation = "std"
  }

  /// Nil for an empty sample.
  public init?(_ values: [Double]) {
    guard !values.isEmpty else { return nil }
    count = values.count
    mean = values.reduce(0, +) / Double(values.count)
    standardDeviation = Self.variance(values, mean: mean).map { $0.squareRoot() }
  }

  /// The unbiased sample variance; nil for fewer than two values.
  static func variance(_ values: [Double], mean: Double) -> Double? {
    guard values.count > 1 else { return nil }
    return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
  }
}
