import Foundation
import Testing

@testable import SearchStrategies

/// The acquisition optimizer's discrete moves on int and step parameters, on a log scale
/// (sizes and counts as practitioners write them: `min_samples_leaf: 1–32, log`).
struct GridNeighbourTests {
  static let leaf = Parameter.int("min_samples_leaf", 1, 32, log: true)

  static func values(_ parameter: Parameter, around value: ParameterValue) -> [ParameterValue] {
    parameter.gridNeighbourUnits(of: value).map { parameter.value(atUnit: $0) }
  }

  @Test func logIntegerNeighboursAreOneAndTwoStepsAwayAtBothEnds() {
    // Given an int parameter on a log scale, whose smallest values own most of [0, 1]
    // When the neighbours of its smallest, a middle and its largest value are asked for
    // Then they are the values one and two steps away, inside the bounds
    #expect(Self.values(Self.leaf, around: .int(1)) == [.int(2), .int(3)])
    #expect(Self.values(Self.leaf, around: .int(16)) == [.int(14), .int(15), .int(17), .int(18)])
    #expect(Self.values(Self.leaf, around: .int(32)) == [.int(30), .int(31)])
  }

  @Test func stepNeighboursFollowTheStepOnLinearAndLogScales() {
    // Given an int with step 5 and a log-scaled float on a 0.1 grid
    let trees = Parameter.int("n_estimators", 10, 200, step: 5)
    let rate = Parameter.float("rate", 0.1, 2.0, log: true, step: 0.1)
    // Then their neighbours are whole steps away
    #expect(Self.values(trees, around: .int(10)) == [.int(15), .int(20)])
    #expect(Self.values(trees, around: .int(100)) == [.int(90), .int(95), .int(105), .int(110)])
    let near = Self.values(rate, around: .double(0.1)).compactMap(\.numericValue)
    #expect(near.count == 2)
    #expect(abs(near[0] - 0.2) < 1e-9 && abs(near[1] - 0.3) < 1e-9)
    // And a categorical or continuous parameter has none
    #expect(Parameter.float("x", 0, 1).gridNeighbourUnits(of: .double(0.5)).isEmpty)
    #expect(Parameter.categorical("c", [.string("a"), .string("b")]).gridNeighbourUnits(of: .string("a")).isEmpty)
  }

  /// Higher towards the low end of `leaf`, and highest at 2: the continuous refinement ends at
  /// 1, and only a discrete move reaches 2.
  struct PeakAtTwo: AcquisitionSurface {
    let peak = GridNeighbourTests.leaf.unit(of: .int(2))!

    func values(_ inputs: [[Double]]) throws -> [Double] {
      inputs.map { abs($0[0] - peak) < 1e-12 ? 1 : -$0[0] }
    }

    func valueWithGradient(_ input: [Double]) -> (value: Double, gradient: [Double])? {
      (-input[0], [-1])
    }
  }

  @Test(arguments: [UInt64(1), 2, 3, 4])
  func optimizerStepsFromOneToTwoOnALogScale(seed: UInt64) throws {
    // Given the acquisition above, one quasi-random candidate (not at 2) and one refinement
    let space = SearchSpace([Self.leaf])
    var optimizer = AcquisitionOptimizer(surface: PeakAtTwo(), encoding: SpaceEncoding(space))
    optimizer.candidateCount = 1
    optimizer.localSearches = 1
    let halton = ScrambledHalton(seed: seed &+ 0x9E37_79B9)
    let start = Self.leaf.value(atUnit: halton.points(0..<1, dimension: 1)[0][0])
    try #require(start != .int(2))
    // When the best configuration is asked for
    let best = try optimizer.suggestion(seed: seed, index: 0, anchors: [], excluded: [])
    // Then the sweep moved from the refinement's 1 to 2 (moves of 1/32 of [0, 1] stayed at 1)
    #expect(best?["min_samples_leaf"] == .int(2))
  }
}
