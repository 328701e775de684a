/// The functional ANOVA of a regression forest (Hutter, Hoos & Leyton-Brown 2014, the method
/// behind Optuna's fANOVA importance): for each tree, over the uniform measure on the domain,
/// the variance of each feature's main effect (the tree averaged over every other feature) as
/// a share of the tree's total variance; averaged over the trees. A feature whose best value
/// lies in the middle of its range has as large a share as one with a monotone effect.
struct FunctionalANOVA: Sendable {
  /// Per feature: its main effect's share of the variance, in [0, 1].
  var shares: [Double]
  /// Per feature: its main effect (the forest's mean prediction) at each of its `points`.
  var effects: [[Double]]

  /// - Parameter points: per feature, where to read its main effect.
  init(_ forest: RegressionForest, points: [[Double]]) {
    let features = forest.domain.count
    var shareSums = [Double](repeating: 0, count: features)
    var effectSums = points.map { [Double](repeating: 0, count: $0.count) }
    var varyingTrees = 0
    for tree in forest.trees {
      let widths = forest.domain.map { $0.upper - $0.lower }
      let volumes = tree.leaves.map { leaf in
        (0..<features).reduce(1.0) { $0 * (leaf.upper[$1] - leaf.lower[$1]) / widths[$1] }
      }
      let mean = zip(tree.leaves, volumes).reduce(0.0) { $0 + $1.0.value * $1.1 }
      let variance = zip(tree.leaves, volumes).reduce(0.0) { $0 + $1.1 * ($1.0.value - mean) * ($1.0.value - mean) }
      for feature in 0..<features {
        let effect = Self.mainEffect(of: feature, tree: tree, volumes: volumes, domain: forest.domain[feature])
        if variance > 0 {
          let explained = zip(effect.cellWidths, effect.values).reduce(0.0) {
            $0 + $1.0 / widths[feature] * ($1.1 - mean) * ($1.1 - mean)
          }
          shareSums[feature] += min(1, explained / variance)
        }
        // The effect at each point: the value of the cell holding it.
        for (index, x) in points[feature].enumerated() {
          effectSums[feature][index] += effect.values[Self.cellIndex(of: x, cuts: tree.cuts[feature])]
        }
      }
      if variance > 0 { varyingTrees += 1 }
    }
    let trees = Double(max(forest.trees.count, 1))
    shares = shareSums.map { varyingTrees > 0 ? $0 / Double(varyingTrees) : 0 }
    effects = effectSums.map { $0.map { $0 / trees } }
  }

  /// A tree's main effect of one feature: its split points cut the feature's domain into
  /// cells, and each leaf adds its value, weighted by its volume over the other features, to
  /// every cell it spans (a difference array: linear in leaves plus cells).
  static func mainEffect(
    of feature: Int, tree: RegressionForest.Tree, volumes: [Double], domain: (lower: Double, upper: Double)
  ) -> (cellWidths: [Double], values: [Double]) {
    let cuts = tree.cuts[feature]
    let bounds = [domain.lower] + cuts + [domain.upper]
    var differences = [Double](repeating: 0, count: bounds.count)
    let width = domain.upper - domain.lower
    for (leaf, volume) in zip(tree.leaves, volumes) {
      let share = (leaf.upper[feature] - leaf.lower[feature]) / width
      guard share > 0 else { continue }
      let first = leaf.lower[feature] <= domain.lower ? 0 : cellIndex(of: leaf.lower[feature], cuts: cuts)
      let end = leaf.upper[feature] >= domain.upper ? cuts.count + 1 : cellIndex(of: leaf.upper[feature], cuts: cuts)
      let weight = leaf.value * volume / share
      differences[first] += weight
      differences[end] -= weight
    }
    var values = [Double](repeating: 0, count: cuts.count + 1)
    var running = 0.0
    for cell in values.indices {
      running += differences[cell]
      values[cell] = running
    }
    let cellWidths = (0..<values.count).map { bounds[$0 + 1] - bounds[$0] }
    return (cellWidths, values)
  }

  /// The cell of `x` among the cells `cuts` makes: the number of cuts at or below it.
  static func cellIndex(of x: Double, cuts: [Double]) -> Int {
    var (low, high) = (0, cuts.count)
    while low < high {
      let middle = (low + high) / 2
      if cuts[middle] <= x { low = middle + 1 } else { high = middle }
    }
    return low
  }
}
