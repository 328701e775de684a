import Testing

@testable import MultiObjective

/// Known answers worked out by hand (box unions by inclusion–exclusion) and, for the
/// larger sets, by a Monte-Carlo-free grid count written out in the comments.
@Suite("Hypervolume, its improvement and contributions")
struct HypervolumeTests {
  @Test("2 objectives: a staircase of three points")
  func staircase() {
    // Boxes to r = (4, 4): (1,3) → 3×1, (2,2) adds 2×1, (3,1) adds 1×1.
    let points: [[Double]] = [[1, 3], [2, 2], [3, 1]]
    #expect(Hypervolume.of(points, reference: [4, 4]) == 6)
    // A dominated point, a point outside the box and a duplicate change nothing.
    #expect(Hypervolume.of(points + [[3, 3], [5, 0], [2, 2]], reference: [4, 4]) == 6)
    #expect(Hypervolume.of([], reference: [4, 4]) == 0)
  }

  @Test("2 objectives: improvement of a new point, and each member's contribution")
  func improvementAndContributions() {
    let points: [[Double]] = [[1, 3], [2, 2], [3, 1]]
    // (1.5, 1.5): HV of the union is 1·... counted by strips: sorted (1,3),(1.5,1.5),(3,1)
    // → 3×1 + 2.5×1.5 + 1×0.5 = 7.25, so it adds 1.25.
    #expect(abs(Hypervolume.improvement(of: [1.5, 1.5], over: points, reference: [4, 4]) - 1.25) < 1e-12)
    #expect(Hypervolume.improvement(of: [3, 3], over: points, reference: [4, 4]) == 0)
    // Without (2,2) the staircase loses the unit square [2,3]×[2,3]; the ends lose theirs.
    #expect(Hypervolume.contributions(points, reference: [4, 4]) == [1, 1, 1])
  }

  @Test("3 objectives: the three unit-offset corners, and a single box")
  func threeObjectives() {
    #expect(Hypervolume.of([[1, 1, 1]], reference: [2, 2, 2]) == 1)
    // Boxes 2×2×1 each (12), pairwise overlaps 2×1×1 (3 × 2 = 6), all three 1: 12 − 6 + 1 = 7.
    let corners: [[Double]] = [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
    #expect(Hypervolume.of(corners, reference: [2, 2, 2]) == 7)
    // (0.5, 0.5, 0.5) adds the part of its 1.5³ box the corners miss: 3.375 − 1.5³ ∩ union.
    // Its box [0.5,2]³ meets each corner box in 1.5×1.5×1 (with overlaps 1.5×1×1, triple 1):
    // 3·2.25 − 3·1.5 + 1 = 3.25 covered, so it adds 3.375 − 3.25 = 0.125.
    #expect(abs(Hypervolume.improvement(of: [0.5, 0.5, 0.5], over: corners, reference: [2, 2, 2]) - 0.125) < 1e-12)
  }

  @Test("4 objectives reduce to 3 by slicing")
  func fourObjectives() {
    // Two points differing only in the last objective: the better one's box holds the other's.
    #expect(Hypervolume.of([[0, 0, 0, 0], [0, 0, 0, 1]], reference: [1, 1, 1, 2]) == 2)
    // (0,0,0,1) and (0,0,1,0) to r = 2⁴: 8 + 8 − overlap (2·2·1·1 = 4) = 12.
    #expect(Hypervolume.of([[0, 0, 0, 1], [0, 0, 1, 0]], reference: [2, 2, 2, 2]) == 12)
  }

  @Test("the hypervolume of a sampled linear front approaches the integral")
  func linearFront() {
    // Points on f₁ + f₂ = 1, r = (1, 1): the dominated area tends to 1/2 from below.
    let n = 1000
    let points = (0...n).map { k -> [Double] in [Double(k) / Double(n), 1 - Double(k) / Double(n)] }
    let volume = Hypervolume.of(points, reference: [1, 1])
    #expect(volume < 0.5 && volume > 0.5 - 1.0 / Double(n))
  }
}

@Suite("Pareto dominance, non-dominated sorting and crowding")
struct DominanceTests {
  @Test("dominance needs no worse everywhere and better somewhere")
  func dominance() {
    #expect(Dominance.dominates([1, 2], [2, 2]))
    #expect(!Dominance.dominates([1, 2], [1, 2]))
    #expect(!Dominance.dominates([1, 3], [2, 2]))
  }

  @Test("fronts peel off in order and hold every point once")
  func fronts() {
    let points: [[Double]] = [[1, 4], [2, 2], [4, 1], [3, 3], [5, 5], [2, 5]]
    #expect(Dominance.front(points) == [0, 1, 2])
    #expect(Dominance.sortedFronts(points) == [[0, 1, 2], [3, 5], [4]])
  }

  @Test("crowding: the ends are infinite, the inside by the neighbours' gaps over the range")
  func crowding() {
    // Sorted by f₁: 0, 1, 3, 4 (f₂ the reverse); the range is 4 in both.
    let front: [[Double]] = [[0, 4], [1, 3], [3, 1], [4, 0]]
    let distances = Dominance.crowdingDistances(front)
    #expect(distances[0] == .infinity && distances[3] == .infinity)
    // Point 1: (3 − 0)/4 + (4 − 1)/4 = 1.5; point 2: (4 − 1)/4 + (3 − 0)/4 = 1.5.
    #expect(distances[1] == 1.5 && distances[2] == 1.5)
  }
}
