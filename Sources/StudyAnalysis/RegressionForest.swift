import SearchStrategies

/// A random forest of regression trees (CART: splits that most reduce the squared error),
/// each grown on a bootstrap sample, kept as the boxes of its leaves: what a functional ANOVA
/// of the forest (`FunctionalANOVA`) needs. Trees are grown with an explicit stack (no
/// recursion on the data) and bounded in depth and sample size, so a 10,000-trial study
/// costs about what a 2,000-trial one does.
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
    // Column-major copy: the split search reads one feature of many rows at a time.
    let columns = (0..<features).map { j in rows.map { $0[j] } }
    trees = (0..<settings.trees).map { index in
      var generator = SplitMix64(seed: settings.seed, stream: 7, index: UInt64(index))
      let size = min(rows.count, settings.maxSamples)
      let sample = (0..<size).map { _ in Int(generator.next() % UInt64(rows.count)) }
      return Self.grow(sample: sample, columns: columns, targets: targets, domain: domain, settings: settings)
    }
  }

  private struct Pending {
    var rows: [Int]
    var lower: [Double]
    var upper: [Double]
    var depth: Int
  }

  private static func grow(
    sample: [Int], columns: [[Double]], targets: [Double], domain: [(lower: Double, upper: Double)],
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
      let column = columns[split.feature]
      var left = node
      var right = node
      left.rows = node.rows.filter { column[$0] < split.threshold }
      right.rows = node.rows.filter { column[$0] >= split.threshold }
      left.upper[split.feature] = split.threshold
      right.lower[split.feature] = split.threshold
      left.depth += 1
      right.depth += 1
      stack.append(left)
      stack.append(right)
    }
    return Tree(leaves: leaves, cuts: cuts.map { Array(Set($0)).sorted() })
  }

  /// The split (feature, threshold halfway between two observed values) that most lowers the
  /// squared error, with at least `minLeaf` rows either side; nil when none lowers it.
  private static func bestSplit(
    _ rows: [Int], columns: [[Double]], targets: [Double], minLeaf: Int
  ) -> (feature: Int, threshold: Double)? {
    let count = Double(rows.count)
    let total = rows.reduce(0.0) { $0 + targets[$1] }
    // Maximizing sumL²/nL + sumR²/nR minimizes the children's squared error.
    var bestGain = total * total / count * (1 + 1e-12) + 1e-12
    var best: (Int, Double)?
    for (feature, column) in columns.enumerated() {
      let order = rows.sorted { column[$0] < column[$1] }
      var leftSum = 0.0
      for position in 0..<(order.count - 1) {
        leftSum += targets[order[position]]
        let leftCount = position + 1
        let (here, next) = (column[order[position]], column[order[position + 1]])
        guard here < next, leftCount >= minLeaf, order.count - leftCount >= minLeaf else { continue }
        let rightSum = total - leftSum
        let gain = leftSum * leftSum / Double(leftCount) + rightSum * rightSum / Double(order.count - leftCount)
        if gain > bestGain {
          bestGain = gain
          best = (feature, (here + next) / 2)
        }
      }
    }
    return best
  }
}
