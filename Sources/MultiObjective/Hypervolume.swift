/// The hypervolume indicator: how much of objective space a set of points dominates, every
/// objective minimized.
///
/// Notation: for points P = {p¹, …, pⁿ} in ℝᵐ and a reference point r (worse than every point
/// that counts), HV(P) = λ(⋃ₖ [pᵏ, r]), the Lebesgue measure of the union of the boxes between
/// each point and r. Points not strictly better than r in every objective add nothing.
///
/// - m = 2: sort the front by f₁ (f₂ then falls); HV = Σₖ (r₁ − f₁ᵏ)(f₂ᵏ⁻¹ − f₂ᵏ) with
///   f₂⁰ = r₂: the strip each point adds below the one before it. O(n log n).
/// - m ≥ 3: slicing along the last objective (HSO): sort by fₘ; between consecutive values
///   zₖ < zₖ₊₁ (zₙ₊₁ = rₘ) the slice's cross-section is the (m − 1)-dimensional hypervolume of
///   the points with fₘ ≤ zₖ, so HV = Σₖ (zₖ₊₁ − zₖ) · HV_{m−1}({p : pₘ ≤ zₖ}). O(n^(m−1) log n):
///   fine for the fronts of a study (hundreds of points, 2–4 objectives).
///
/// The hypervolume improvement of a point x is HVI(x) = HV(P ∪ {x}) − HV(P); a member's
/// contribution is HV(P) − HV(P ∖ {p}).
public enum Hypervolume {
  public static func of(_ points: [[Double]], reference: [Double]) -> Double {
    let inside = points.filter { point in zip(point, reference).allSatisfy { $0 < $1 } }
    guard !inside.isEmpty else { return 0 }
    let front = Dominance.front(inside).map { inside[$0] }
    return volume(front, reference)
  }

  /// How much `point` would add to the hypervolume of `points`.
  public static func improvement(of point: [Double], over points: [[Double]], reference: [Double]) -> Double {
    max(0, of(points + [point], reference: reference) - of(points, reference: reference))
  }

  /// Each point's exclusive share: what the hypervolume loses without it (0 for a dominated
  /// point, or for one of two equal points).
  public static func contributions(_ points: [[Double]], reference: [Double]) -> [Double] {
    let total = of(points, reference: reference)
    return points.indices.map { index in
      var others = points
      others.remove(at: index)
      return max(0, total - of(others, reference: reference))
    }
  }

  /// The hypervolume of mutually non-dominated points, all inside the reference box.
  static func volume(_ points: [[Double]], _ reference: [Double]) -> Double {
    let m = reference.count
    if m == 1 { return reference[0] - (points.map { $0[0] }.min() ?? reference[0]) }
    if m == 2 {
      var area = 0.0
      var ceiling = reference[1]
      for point in points.sorted(by: { ($0[0], $0[1]) < ($1[0], $1[1]) }) where point[1] < ceiling {
        area += (reference[0] - point[0]) * (ceiling - point[1])
        ceiling = point[1]
      }
      return area
    }
    let sorted = points.sorted { $0[m - 1] < $1[m - 1] }
    let lower = Array(reference.prefix(m - 1))
    var total = 0.0
    var slice: [[Double]] = []
    for (k, point) in sorted.enumerated() {
      slice.append(Array(point.prefix(m - 1)))
      let top = k + 1 < sorted.count ? sorted[k + 1][m - 1] : reference[m - 1]
      let depth = top - point[m - 1]
      guard depth > 0 else { continue }
      let front = Dominance.front(slice).map { slice[$0] }
      slice = front
      total += depth * volume(front, lower)
    }
    return total
  }
}
