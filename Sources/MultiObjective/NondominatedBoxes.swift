/// The part of objective space below a reference point that no point of a set dominates, cut
/// into disjoint axis-aligned boxes: what a new point can still add to the hypervolume. Every
/// objective minimized.
///
/// Notation: points P in ℝᵐ, reference r. The non-dominated region is
/// A = {z ≤ r : no p ∈ P has p ≤ z}, and A = ⋃ₖ [lᵏ, uᵏ) with lᵏⱼ ∈ {−∞} ∪ {pⱼ}, uᵏⱼ ∈ {rⱼ} ∪ {pⱼ}.
/// The hypervolume improvement of y is then
///   HVI(y) = λ([y, r] ∩ A) = Σₖ Πⱼ (uᵏⱼ − max(yⱼ, lᵏⱼ))₊,
/// a sum of products of one-dimensional terms, which is what makes its expectation under
/// independent Gaussian objectives closed-form (see SearchStrategies' `LogEHVI`).
///
/// Construction (slicing along the last objective, as `Hypervolume` does): sort P by pₘ;
/// between consecutive values zₛ₋₁ ≤ z < zₛ (z₋₁ = −∞, the last slice ending at rₘ) the
/// points that can dominate are the first s, and the slice's cross-section is the
/// (m − 1)-dimensional non-dominated region of their projections; in one dimension it is
/// (−∞, min(r₁, min p₁)). Slices of zero height are skipped. A front of n points gives at
/// most n + 1 boxes in two objectives and about n²/2 in three.
public struct NondominatedBoxes: Sendable, Hashable {
  /// Each box's lower corner (−∞ where the box is unbounded below).
  public private(set) var lower: [[Double]] = []
  /// Each box's upper corner (at most the reference point in every objective).
  public private(set) var upper: [[Double]] = []

  public var count: Int { lower.count }

  /// The boxes of the region below `reference` not dominated by any of `points` (dominated
  /// points and points not strictly better than `reference` everywhere change nothing).
  public init(points: [[Double]], reference: [Double]) {
    let inside = points.filter { point in point.count == reference.count && zip(point, reference).allSatisfy { $0 < $1 }
    }
    let front = Dominance.front(inside).map { inside[$0] }
    Self.decompose(front, reference: reference) { l, u in
      lower.append(l)
      upper.append(u)
    }
  }

  /// HVI(y): the volume the boxes hold above `point` (see the type's notation).
  public func improvement(of point: [Double]) -> Double {
    var total = 0.0
    for k in lower.indices {
      var volume = 1.0
      for j in point.indices {
        let side = upper[k][j] - Swift.max(point[j], lower[k][j])
        guard side > 0 else {
          volume = 0
          break
        }
        volume *= side
      }
      total += volume
    }
    return total
  }

  private static func decompose(
    _ points: [[Double]], reference: [Double], emit: (_ lower: [Double], _ upper: [Double]) -> Void
  ) {
    let m = reference.count
    guard m > 1 else {
      let top = Swift.min(reference[0], points.map { $0[0] }.min() ?? reference[0])
      emit([-.infinity], [top])
      return
    }
    let sorted = points.sorted { $0[m - 1] < $1[m - 1] }
    let projected = Array(reference.prefix(m - 1))
    var bottom = -Double.infinity
    for s in 0...sorted.count {
      let top = s < sorted.count ? sorted[s][m - 1] : reference[m - 1]
      defer { bottom = Swift.max(bottom, top) }
      guard top > bottom else { continue }
      let slice = sorted.prefix(s).map { Array($0.prefix(m - 1)) }
      let front = Dominance.front(slice).map { slice[$0] }
      decompose(front, reference: projected) { l, u in emit(l + [bottom], u + [top]) }
    }
  }
}
