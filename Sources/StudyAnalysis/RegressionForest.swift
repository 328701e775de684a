import Dispatch
import SearchStrategies
import Synchronization

/// A random forest of regression trees (CART: splits that most reduce the squared error),
/// each grown on a bootstrap sample, kept as the boxes of its leaves: what a functional ANOVA
/// of the forest (`FunctionalANOVA`) needs. Trees are grown with an explicit stack (no
/// recursion on the data) and bounded in depth and sample size, so a 10,000-trial study
/// costs about what a 2,000-trial one does. Each feature's values are put in at most
/// `Settings.bins` quantile bins first (every distinct value its own bin when there are
/// fewer), so a node's best split is found from histograms, in time linear in its rows.
struct RegressionForest: Sendable {
  /// One leaf: the box `[lower, upper)` it covers in feature space and its prediction.
  struct Leaf: Sendable {
    var lower: [Double]
    var upper: [Double]
    var value: Double
  }

  /// One tree as its leaves (which partition the domain) and, per feature, its split points.
  struct Tree: Sendable {
    var leaves: [Leaf]
    var cuts: [[Double]]
  }

  struct Settings: Sendable {
    var trees = 32
    /// Each tree's bootstrap sample is at most this large (sampled with replacement).
    var maxSamples = 2000
    var maxDepth = 24
    var minLeaf = 2
    var bins = 64
    var seed: UInt64 = 0x1D_EA5
  }

  var trees: [Tree]
  /// Each feature's domain `[lower, upper]`.
  let domain: [(lower: Double, upper: Double)]

  /// - Parameters:
  ///   - rows: one feature vector per observation, each inside `domain`.
  ///   - targets: the value of each row.
  init(
    rows: [[Double]], targets: [Double], domain: [(lower: Double, upper: Double)], settings: Settings = Settings()
  ) {
    precondition(rows.count == targets.count && !rows.isEmpty)
    self.domain = domain
    let features = domain.count
    let binned = (0..<features).map { j in Binned(rows.map { $0[j] }, bins: settings.bins) }
    // Trees are grown on every core; each from its own seeded stream, so the forest is the
    // same whatever the order they finish in.
    let grown = Mutex<[Int: Tree]>([:])
    DispatchQueue.concurrentPerform(iterations: settings.trees) { index in
      var generator = SplitMix64(seed: settings.seed, stream: 7, index: UInt64(index))
      let size = min(rows.count, settings.maxSamples)
      let sample = (0..<size).map { _ in Int(generator.next() % UInt64(rows.count)) }
      let tree = Self.grow(sample: sample, columns: binned, targets: targets, domain: domain, settings: settings)
      grown.withLock { $0[index] = tree }
    }
    trees = grown.withLock { trees in (0..<settings.trees).map { trees[$0]! } }
  }

  /// One feature as each row's bin, and the threshold between each bin and the next
  /// (halfway between the largest value of the one and the smallest of the other).
  struct Binned: Sendable {
    var bin: [Int]
    var thresholds: [Double]

    init(_ values: [Double], bins: Int) {
      let distinct = Array(Set(values)).sorted()
      // Bin edges: every distinct value, or quantiles of the distinct values.
      let lowest: [Double] =
        distinct.count <= bins
        ? distinct : (0..<bins).map { distinct[$0 * distinct.count / bins] }
      var highest: [Double] = []
      for (index, _) in lowest.enumerated() {
        let end = index + 1 < lowest.count ? distinct.firstIndex(of: lowest[index + 1])! - 1 : distinct.count - 1
        highest.append(distinct[end])
      }
      thresholds = (0..<max(lowest.count - 1, 0)).map { (highest[$0] + lowest[$0 + 1]) / 2 }
      let thresholds = thresholds
      bin = values.map { value in
        var (low, high) = (0, thresholds.count)
        while low < high {
          let middle = (low + high) / 2
          if thresholds[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
      }
    }
  }

  private struct Pending {
    var rows: [Int]
    var lower: [Double]
    var upper: [Double]
    var depth: Int
  }

  private static func grow(
    sample: [Int], columns: [Binned], targets: [Double], domain: [(lower: Double, upper: Double)],
    settings: Settings
  ) -> Tree {
    var leaves: [Leaf] = []
    var cuts = [[Double]](repeating: [], count: domain.count)
    var stack = [Pending(rows: sample, lower: domain.map(\.lower), upper: domain.map(\.upper), depth: 0)]
    while let node = stack.popLast() {
      let mean = node.rows.reduce(0.0) { $0 + targets[$1] } / Double(node.rows.count)
      guard node.depth < settings.maxDepth, node.rows.count >= 2 * settings.minLeaf,
        let split = bestSplit(node.rows, columns: columns, targets: targets, minLeaf: settings.minLeaf)
      else {
        leaves.append(Leaf(lower: node.lower, upper: node.upper, value: mean))
        continue
      }
      cuts[split.feature].append(split.threshold)
      let column = columns[split.feature].bin
      var left = node
      var right = node
      left.rows = node.rows.filter { column[$0] <= split.bin }
      right.rows = node.rows.filter { column[$0] > split.bin }
      left.upper[split.feature] = split.threshold
      right.lower[split.feature] = split.threshold
      left.depth += 1
      right.depth += 1
      stack.append(left)
      stack.append(right)
    }
    return Tree(leaves: leaves, cuts: cuts.map { Array(Set($0)).sorted() })
  }

  /// The split (feature, bin: rows in it and below go left) that most lowers the squared
  /// error, with at least `minLeaf` rows either side; nil when none lowers it.
  private static func bestSplit(
    _ rows: [Int], columns: [Binned], targets: [Double], minLeaf: Int
  ) -> (feature: Int, bin: Int, threshold: Double)? {
    let count = Double(rows.count)
    let total = rows.reduce(0.0) { $0 + targets[$1] }
    // Maximizing sumL²/nL + sumR²/nR minimizes the children's squared error.
    var bestGain = total * total / count * (1 + 1e-12) + 1e-12
    var best: (Int, Int, Double)?
    for (feature, column) in columns.enumerated() where !column.thresholds.isEmpty {
      var sums = [Double](repeating: 0, count: column.thresholds.count + 1)
      var counts = [Int](repeating: 0, count: column.thresholds.count + 1)
      for row in rows {
        sums[column.bin[row]] += targets[row]
        counts[column.bin[row]] += 1
      }
      var (leftSum, leftCount) = (0.0, 0)
      for bin in 0..<column.thresholds.count {
        leftSum += sums[bin]
        leftCount += counts[bin]
        guard counts[bin] > 0, leftCount >= minLeaf, rows.count - leftCount >= minLeaf else { continue }
        let rightSum = total - leftSum
        let gain = leftSum * leftSum / Double(leftCount) + rightSum * rightSum / Double(rows.count - leftCount)
        if gain > bestGain {
          bestGain = gain
          best = (feature, bin, column.thresholds[bin])
        }
      }
    }
    return best
  }
}
