import Testing

@testable import Significance

// Known values computed once with scipy 1.17 (stats.ttest_ind(equal_var=False) and its
// confidence_interval, stats.t.cdf/ppf, stats.mannwhitneyu(alternative="two-sided"),
// special.betainc) and written in here.

private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
  abs(a - b) <= tolerance * max(1, abs(b))
}

@Suite("Significance")
struct SignificanceTests {
  @Test("the incomplete beta function and Student's t match scipy")
  func betaAndStudentT() {
    #expect(close(IncompleteBeta.regularized(x: 0.3, a: 2.5, b: 0.5), 0.018927124071945658))
    #expect(close(StudentT.cdf(1.5, degreesOfFreedom: 3.7), 0.8932009153989933))
    #expect(close(StudentT.cdf(-2.2, degreesOfFreedom: 10), 0.02622053422467658))
    #expect(close(StudentT.quantile(0.975, degreesOfFreedom: 4.2), 2.7250727225923743, 1e-8))
    #expect(close(StudentT.quantile(0.995, degreesOfFreedom: 1), 63.656741162871526, 1e-8))
  }

  @Test("Welch's test of two accuracies over seeds matches scipy")
  func welchMatchesScipy() throws {
    let test = try #require(
      WelchTest([0.912, 0.918, 0.915, 0.921, 0.909], [0.905, 0.899, 0.908, 0.902]))
    #expect(close(test.t, 4.003786086981031))
    #expect(close(test.degreesOfFreedom, 6.980769230769231))
    #expect(close(test.pValue, 0.005194223807713698, 1e-8))
    #expect(close(test.lower, 0.00470433915473937, 1e-8))
    #expect(close(test.upper, 0.01829566084526054, 1e-8))
  }

  @Test("Welch's test with unequal spreads and a 90% interval matches scipy")
  func welchUnequalSpreads() throws {
    let test = try #require(WelchTest([1, 2, 3], [1.5, 2.5, 9], confidenceLevel: 0.9))
    #expect(close(test.t, -0.9637997471501197))
    #expect(close(test.degreesOfFreedom, 2.240332117247452))
    #expect(close(test.pValue, 0.4273367389662567, 1e-8))
    #expect(close(test.lower, -8.911572964568496, 1e-8))
    #expect(close(test.upper, 4.244906297901825, 1e-8))
  }

  @Test("Welch's test needs two values a side and handles samples without spread")
  func welchNeedsTwoValues() throws {
    #expect(WelchTest([1], [2, 3]) == nil)
    let certain = try #require(WelchTest([1, 1, 1], [2, 2]))
    #expect(certain.pValue == 0 && certain.difference == -1)
    let same = try #require(WelchTest([4, 4], [4, 4, 4]))
    #expect(same.pValue == 1)
  }

  struct RankCase: Sendable, CustomTestStringConvertible {
    var x: [Double]
    var y: [Double]
    var u: Double
    var p: Double
    var exact: Bool
    var testDescription: String { "\(x) vs \(y)" }
  }

  static let rankCases: [RankCase] = [
    RankCase(x: [1, 2, 3], y: [4, 5, 6], u: 0, p: 0.1, exact: true),
    RankCase(x: [0.91, 0.93, 0.92, 0.95], y: [0.90, 0.94, 0.89], u: 9, p: 0.4, exact: true),
    RankCase(x: [1, 2, 2, 3, 4], y: [2, 3, 5, 6, 6, 7], u: 4.5, p: 0.06414661873440437, exact: false),
    RankCase(
      x: (0..<10).map(Double.init), y: (0..<9).map { Double($0) + 3.5 }, u: 21, p: 0.055013832353979004,
      exact: false),
  ]

  @Test("the Mann-Whitney test matches scipy, exactly for small samples", arguments: rankCases)
  func mannWhitneyMatchesScipy(_ known: RankCase) throws {
    let test = try #require(MannWhitneyTest(known.x, known.y))
    #expect(test.u == known.u)
    #expect(close(test.pValue, known.p, 1e-9))
    #expect(test.exact == known.exact)
  }

  @Test("a summary gives the mean, the sample standard deviation and the count")
  func aSummaryGivesTheMean() throws {
    let summary = try #require(SampleSummary([2, 4, 4, 4, 5, 5, 7, 9]))
    #expect(summary.mean == 5 && summary.count == 8)
    #expect(close(summary.standardDeviation!, 2.138089935299395))
    #expect(SampleSummary([3])?.standardDeviation == nil)
    #expect(SampleSummary([]) == nil)
  }

}
