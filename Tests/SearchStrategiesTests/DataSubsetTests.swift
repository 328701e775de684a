import Foundation
import StudyModel
import Testing

@testable import SearchStrategies

struct DataSubsetTests {
  @Test func subsetIsBestNearestAndSpreadWorkedByHand() {
    // Given 12 observations on a line, x = i/11, and m = 8
    let x = (0..<12).map { Double($0) / 11 }
    let y: [Double] = [5, 3, 9, 1, 7, 2, 8, 6, 4, 0.5, 10, 11]
    // When the subset is chosen
    let s = DataSubset.indices(x: x, y: y, dimension: 1, isCategorical: [false], size: 8)
    // Then (by hand): the best 2 are 9 and 3; the 2 others nearest x⁺ = x₉ are 8 and 10 (a
    // tie broken by index); the remaining 8 are 0, 1, 2, 4, 5, 6, 7, 11, of which every
    // second (positions 0, 2, 4, 6) completes S: 0, 2, 5, 7
    #expect(s == [0, 2, 3, 5, 7, 8, 9, 10])
  }

  @Test func smallHistoriesAreKeptWhole() {
    // Given fewer observations than the subset size / Then all of them are used
    #expect(
      DataSubset.indices(x: [0, 0.5, 1], y: [3, 1, 2], dimension: 1, isCategorical: [false], size: 8) == [0, 1, 2])
  }

  @Test func categoricalCoordinatesCountAsMismatches() {
    // Given 2-D inputs (numeric, categorical), the best at (0.5, category 0), m = 4
    let x: [Double] = [0.5, 0, 0.5, 1, 0.9, 0, 0.1, 1, 0.45, 0, 0.0, 2]
    let y: [Double] = [0, 5, 6, 7, 8, 9]
    let s = DataSubset.indices(x: x, y: y, dimension: 2, isCategorical: [false, true], size: 4)
    // Then S = best {0}, nearest {4} (0.05² away, same category), and spread over the rest
    // {1, 2, 3, 5}: positions 0 and 2, i.e. 1 and 3
    #expect(s == [0, 1, 3, 4])
  }

  @Test func longHistorySuggestionsUseTheSubsetAndStillImprove() throws {
    // Given 1,200 random observations of a smooth 3-D bowl (above the exact limit)
    let space = SearchSpace((0..<3).map { .float("x\($0)", 0, 1) })
    func loss(_ c: Configuration) -> Double {
      (0..<3).reduce(0) { $0 + pow(c["x\($1)"]!.numericValue! - 0.37, 2) }
    }
    var rng = SplitMix64(seed: 5)
    var context = SearchContext(space: space)
    for _ in 0..<1200 {
      let c = space.configuration(atUnit: (0..<3).map { _ in rng.nextUnit() })
      context.observations.append(.completed(c, loss(c)))
    }
    let best = context.observations.compactMap(\.value).min()!
    // When the GP suggests
    let suggestion = try BayesianOptimization(seed: 1).suggest(1, in: context)[0]
    // Then the suggestion beats the best of the history
    #expect(loss(suggestion) < best)
  }
}
