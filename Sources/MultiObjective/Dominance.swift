/// Pareto dominance among objective vectors, every objective minimized (turn a maximized one
/// into a loss by negating it first).
///
/// Notation: a point is a vector f = (f₁, …, f_m). f dominates g (f ≺ g) when fᵢ ≤ gᵢ for
/// every i and fⱼ < gⱼ for some j. The (first) front of a set is its points no other point
/// dominates; front k + 1 is the front of what remains without fronts 1…k.
public enum Dominance {
  /// Whether `a` dominates `b`: no worse in any objective, better in at least one.
  public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
    precondition(a.count == b.count, "points of \(a.count) and \(b.count) objectives")
    var better = false
    for (x, y) in zip(a, b) {
      if x > y { return false }
      if x < y { better = true }
    }
    return better
  }

  /// The indices of the points no other point dominates, in input order. Equal points are all
  /// on the front.
  public static func front(_ points: [[Double]]) -> [Int] {
    points.indices.filter { i in !points.indices.contains { j in j != i && dominates(points[j], points[i]) } }
  }

  /// Non-dominated sorting (NSGA-II's): the indices of each front in turn, the first front
  /// first; together they hold every index once.
  public static func sortedFronts(_ points: [[Double]]) -> [[Int]] {
    var dominatedBy = [Int](repeating: 0, count: points.count)
    var dominating = [[Int]](repeating: [], count: points.count)
    for i in points.indices {
      for j in points.indices where j != i {
        if dominates(points[i], points[j]) {
          dominating[i].append(j)
        } else if dominates(points[j], points[i]) {
          dominatedBy[i] += 1
        }
      }
    }
    var fronts: [[Int]] = []
    var current = points.indices.filter { dominatedBy[$0] == 0 }
    while !current.isEmpty {
      fronts.append(current)
      var next: [Int] = []
      for i in current {
        for j in dominating[i] {
          dominatedBy[j] -= 1
          if dominatedBy[j] == 0 { next.append(j) }
        }
      }
      current = next.sorted()
    }
    return fronts
  }

  /// NSGA-II's crowding distance of each point of one front: for every objective, the gap
  /// between a point's two neighbours along it over the objective's range, summed; the two
  /// extremes of any objective get infinity. Larger means more isolated.
  public static func crowdingDistances(_ front: [[Double]]) -> [Double] {
    guard front.count > 2 else { return [Double](repeating: .infinity, count: front.count) }
    var distance = [Double](repeating: 0, count: front.count)
    for objective in front[0].indices {
      let order = front.indices.sorted { front[$0][objective] < front[$1][objective] }
      let low = front[order.first!][objective]
      let high = front[order.last!][objective]
      distance[order.first!] = .infinity
      distance[order.last!] = .infinity
      guard high > low else { continue }
      for k in 1..<(order.count - 1) {
        distance[order[k]] += (front[order[k + 1]][objective] - front[order[k - 1]][objective]) / (high - low)
      }
    }
    return distance
  }
}
