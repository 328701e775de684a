/// Welch's t-test of the difference between the means of two samples that may have different
/// variances, with the Welch–Satterthwaite degrees of freedom:
///
///   d = x̄ − ȳ,  se² = s²ₓ/nₓ + s²ᵧ/nᵧ,  t = d / se,
///   ν = se⁴ / ((s²ₓ/nₓ)²/(nₓ − 1) + (s²ᵧ/nᵧ)²/(nᵧ − 1)),
///
/// the two-sided p-value P(|T_ν| ≥ |t|) and the interval d ± t_{ν, (1+level)/2} · se.
public struct WelchTest: Sendable, Hashable, Codable {
  /// x̄ − ȳ.
  public var difference: Double
  public var standardError: Double
  public var degreesOfFreedom: Double
  public var t: Double
  /// Two-sided.
  public var pValue: Double
  public var confidenceLevel: Double
  public var lower: Double
  public var upper: Double

  /// Nil when either sample has fewer than two values (no variance to test against).
  /// Two samples without any spread differ for certain when their means differ (p = 0) and
  /// not at all when they are equal (p = 1).
  public init?(_ x: [Double], _ y: [Double], confidenceLevel: Double = 0.95) {
    guard let sx = SampleSummary(x), let sy = SampleSummary(y), x.count > 1, y.count > 1 else { return nil }
    let vx = SampleSummary.variance(x, mean: sx.mean)! / Double(x.count)
    let vy = SampleSummary.variance(y, mean: sy.mean)! / Double(y.count)
    self.confidenceLevel = confidenceLevel
    difference = sx.mean - sy.mean
    standardError = (vx + vy).squareRoot()
    guard standardError > 0 else {
      degreesOfFreedom = Double(x.count + y.count - 2)
      t = difference == 0 ? 0 : difference > 0 ? .infinity : -.infinity
      pValue = difference == 0 ? 1 : 0
      lower = difference
      upper = difference
      return
    }
    degreesOfFreedom = (vx + vy) * (vx + vy) / (vx * vx / Double(x.count - 1) + vy * vy / Double(y.count - 1))
    t = difference / standardError
    pValue = StudentT.twoSidedTail(abs(t), degreesOfFreedom: degreesOfFreedom)
    let margin = StudentT.quantile((1 + confidenceLevel) / 2, degreesOfFreedom: degreesOfFreedom) * standardError
    lower = difference - margin
    upper = difference + margin
  }

  /// Half the confidence interval's width: the "± …" of the difference.
  public var margin: Double { (upper - lower) / 2 }
}
