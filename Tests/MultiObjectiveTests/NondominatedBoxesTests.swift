import Testing

@testable import MultiObjective

@Suite("The non-dominated region as disjoint boxes")
struct NondominatedBoxesTests {
  @Test("2 objectives: a staircase of three points gives four boxes; improvements by hand")
  func staircase() {
    let boxes = NondominatedBoxes(points: [[1, 3], [2, 2], [3, 1], [3, 3]], reference: [4, 4])
    // Slices along f₂: below 1, [1, 2), [2, 3), [3, 4); the dominated (3, 3) adds none.
    #expect(boxes.count == 4)
    #expect(boxes.upper.map { $0[0] } == [4, 3, 2, 1])
    // (1.5, 1.5) adds 1.25 (see HypervolumeTests), a dominated point nothing, the ideal point
    // (0, 0) everything in [0, 4]² but the 6 already dominated.
    #expect(abs(boxes.improvement(of: [1.5, 1.5]) - 1.25) < 1e-12)
    #expect(boxes.improvement(of: [3.5, 3.5]) == 0)
    #expect(boxes.improvement(of: [0, 0]) == 10)
  }

  @Test("3 objectives: one point, improvements by inclusion–exclusion")
  func singlePoint() {
    let boxes = NondominatedBoxes(points: [[1, 1, 1]], reference: [2, 2, 2])
    // [0, 2]³ less the dominated [1, 2]³.
    #expect(boxes.improvement(of: [0, 0, 0]) == 7)
    // [1.5, 2] × [0.5, 2]² = 1.125, less its part inside [1, 2]³: 0.5 × 1 × 1.
    #expect(abs(boxes.improvement(of: [1.5, 0.5, 0.5]) - 0.625) < 1e-12)
    #expect(boxes.improvement(of: [1, 1, 1]) == 0)
    // An empty front: everything below the reference.
    #expect(NondominatedBoxes(points: [], reference: [2, 2, 2]).improvement(of: [1, 1, 1]) == 1)
  }

  @Test("2, 3 and 4 objectives: improvements agree with the hypervolume's, and the boxes are disjoint")
  func agreesWithHypervolume() {
    var state: UInt64 = 0x1234_5678
    func unit() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / Double(1 << 53)
    }
    for m in 2...4 {
      for _ in 0..<10 {
        // Points near the simplex's sphere, so that many are mutually non-dominated.
        let points = (0..<12).map { _ -> [Double] in
          let raw = (0..<m).map { _ in unit() + 0.05 }
          let norm = raw.map { $0 * $0 }.reduce(0, +).squareRoot()
          return raw.map { $0 / norm + 0.1 * unit() }
        }
        let reference = [Double](repeating: 1.2, count: m)
        let boxes = NondominatedBoxes(points: points, reference: reference)
        for _ in 0..<20 {
          let y = (0..<m).map { _ in unit() * 1.1 }
          let expected = Hypervolume.improvement(of: y, over: points, reference: reference)
          #expect(abs(boxes.improvement(of: y) - expected) < 1e-9, "m = \(m), y = \(y)")
        }
        // Disjoint: the boxes clipped below at 0 fill [0, r] less the dominated part.
        let total = (0..<boxes.count).reduce(0.0) { sum, k in
          sum + zip(boxes.lower[k], boxes.upper[k]).reduce(1.0) { $0 * ($1.1 - Swift.max($1.0, 0)) }
        }
        let expected = reference.reduce(1, *) - Hypervolume.of(points, reference: reference)
        #expect(abs(total - expected) < 1e-9, "m = \(m)")
      }
    }
  }
}
