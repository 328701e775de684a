import Foundation
import StudyModel
import Testing

@testable import SearchStrategies

struct RandomSearchTests {
  @Test func logParametersAreLogUniform() throws {
    // Given a log float over [1e-4, 1]
    let space = SearchSpace([.float("lr", 1e-4, 1, log: true)])
    // When 400 values are drawn
    let values = try RandomSearch(seed: 4).suggest(400, in: SearchContext(space: space)).map { $0["lr"]!.numericValue! }
    // Then about a quarter fall in each decade pair, i.e. the median is near 1e-2 (not 0.5)
    let below = values.filter { $0 < 1e-2 }.count
    #expect(below > 160 && below < 240)
    #expect(values.allSatisfy { $0 >= 1e-4 && $0 <= 1 })
  }

  @Test func stepParametersStayOnTheirGridAndReachBothEnds() throws {
    // Given a float with step 0.25 and an int with step 3
    let space = SearchSpace([.float("f", 0, 1, step: 0.25), .int("i", 2, 11, step: 3)])
    // When 200 configurations are drawn
    let suggestions = try RandomSearch(seed: 9).suggest(200, in: SearchContext(space: space))
    // Then every value is on its grid and every grid point is reached
    #expect(Set(suggestions.map { $0["f"]! }) == Set([0, 0.25, 0.5, 0.75, 1].map { ParameterValue.double($0) }))
    #expect(Set(suggestions.map { $0["i"]! }) == Set([2, 5, 8, 11].map { ParameterValue.int($0) }))
  }
}
