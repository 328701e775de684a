import StudyModel
import Testing

@testable import SearchStrategies

struct QuasiRandomSearchTests {
  @Test func firstPointsStratifyEachCoordinate() {
    // Given a scrambled Halton sequence (bases 2 and 3)
    let halton = ScrambledHalton(seed: 12)
    // When the first 16 points (2⁴) and first 9 points (3²) are taken
    let first16 = (0..<16).map { halton.point($0, dimension: 2)[0] }
    let first9 = (0..<9).map { halton.point($0, dimension: 2)[1] }
    // Then each lands in its own 1/16 (resp. 1/9) cell: scrambling keeps the stratification
    #expect(Set(first16.map { Int($0 * 16) }).count == 16)
    #expect(Set(first9.map { Int($0 * 9) }).count == 9)
    #expect((first16 + first9).allSatisfy { $0 >= 0 && $0 < 1 })
  }

  @Test func seedsGiveDifferentSequences() {
    // Given two seeds / When their first points are drawn / Then they differ
    #expect(ScrambledHalton(seed: 1).point(0, dimension: 3) != ScrambledHalton(seed: 2).point(0, dimension: 3))
  }

  @Test func coversTheSpaceMoreEvenlyThanRandom() throws {
    // Given a 2-D continuous space
    let space = SearchSpace([.float("x", 0, 1), .float("y", 0, 1)])
    func worstCellCount(_ strategy: any SearchStrategy) throws -> Int {
      let points = try strategy.suggest(64, in: SearchContext(space: space))
      var counts = [Int](repeating: 0, count: 16)
      for p in points { counts[Int(p["x"]!.numericValue! * 4) * 4 + Int(p["y"]!.numericValue! * 4)] += 1 }
      return counts.map { abs($0 - 4) }.max()!
    }
    // When 64 quasi-random and 64 random points fill a 4×4 grid of cells
    // Then the quasi-random cells deviate less from the expected 4 per cell
    #expect(try worstCellCount(QuasiRandomSearch(seed: 3)) < worstCellCount(RandomSearch(seed: 3)))
  }

  @Test func resumedStudyContinuesTheSequence() throws {
    // Given a study that suggested 5 in one call
    let space = SearchSpace([.float("x", 0, 1), .int("n", 1, 1000)])
    let strategy = QuasiRandomSearch(seed: 8)
    let batch = try strategy.suggest(5, in: SearchContext(space: space))
    // When it is replayed one at a time, each one told
    var context = SearchContext(space: space)
    var oneByOne: [Configuration] = []
    for _ in 0..<5 {
      let next = try strategy.suggest(1, in: context)[0]
      oneByOne.append(next)
      context.observations.append(.completed(next, 0))
    }
    // Then the same five come out
    #expect(batch == oneByOne)
  }
}
