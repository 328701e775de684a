import Foundation

/// The Mann–Whitney U test (Wilcoxon rank-sum), two-sided, which asks only that one sample's
/// values tend to rank above the other's: the check where counts are too small to trust a
/// t-test's normality. As scipy's `mannwhitneyu(method="auto")`: the exact distribution of U
/// when both samples have fewer than 8 values and no ties, otherwise the normal approximation
/// with the tie correction and a continuity correction.
public struct MannWhitneyTest: Sendable, Hashable, Codable {
  /// U of the first sample: the pairs (x, y) with x > y, ties counting one half.
  public var u: Double
  public var pValue: Double
  public var exact: Bool

  /// Nil when either sample is empty.
  public init?(_ x: [Double], _ y: [Double]) {
    guard !x.isEmpty, !y.isEmpty else { return nil }
    let n1 = x.count
    let n2 = y.count
    let ranks = Self.midranks(x + y)
    let rankSum = ranks.prefix(n1).reduce(0, +)
    u = rankSum - Double(n1 * (n1 + 1)) / 2
    let larger = max(u, Double(n1 * n2) - u)
    let tieGroups = Dictionary(grouping: x + y, by: { $0 }).values.map(\.count).filter { $0 > 1 }
    exact = n1 < 8 && n2 < 8 && tieGroups.isEmpty
    if exact {
      pValue = min(1, 2 * Self.exactUpperTail(Int(larger), n1, n2))
    } else {
      let n = Double(n1 + n2)
      let tieTerm = tieGroups.reduce(0.0) { $0 + pow(Double($1), 3) - Double($1) } / (n * (n - 1))
      let sigma = (Double(n1 * n2) / 12 * ((n + 1) - tieTerm)).squareRoot()
      guard sigma > 0 else {
        pValue = 1
        return
      }
      let z = (larger - Double(n1 * n2) / 2 - 0.5) / sigma
      pValue = min(1, erfc(z / 2.0.squareRoot()))
    }
  }

  /// Ranks from 1, ties sharing the mean of their ranks.
  static func midranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
      var end = start
      while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
      let rank = Double(start + end) / 2 + 1
      for position in start...end { ranks[order[position]] = rank }
      start = end + 1
    }
    return ranks
  }

  /// P(U ≥ u) under the null, from the counts of arrangements of n1 + n2 distinct values by
  /// their U: f(i, j, u) = f(i − 1, j, u − j) + f(i, j − 1, u).
  static func exactUpperTail(_ u: Int, _ n1: Int, _ n2: Int) -> Double {
    let maxU = n1 * n2
    // counts[i][j] is the distribution of U for samples of i and j values.
    var counts = [[[Double]]](
      repeating: [[Double]](repeating: [], count: n2 + 1), count: n1 + 1)
    for i in 0...n1 {
      for j in 0...n2 {
        var distribution = [Double](repeating: 0, count: i * j + 1)
        if i == 0 || j == 0 {
          distribution[0] = 1
        } else {
          for value in 0...(i * j) {
            let fromLargest = value >= j ? counts[i - 1][j][value - j] : 0
            let fromOther = value < counts[i][j - 1].count ? counts[i][j - 1][value] : 0
            distribution[value] = fromLargest + fromOther
          }
        }
        counts[i][j] = distribution
      }
    }
    let distribution = counts[n1][n2]
    let total = distribution.reduce(0, +)
    return distribution[min(u, maxU)...].reduce(0, +) / total
  }
}
