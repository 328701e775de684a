import StudyModel
import Testing

@testable import SearchStrategies

struct GridSearchTests {
  @Test func enumeratesTheFullFactorialInOrder() throws {
    // Given an int, a categorical and a float with explicit values
    let space = SearchSpace([
      .int("a", 1, 3),
      .categorical("b", [.string("x"), .string("y")]),
      Parameter(name: "c", domain: .float(min: 0, max: 1, log: false, step: nil), gridValues: [.double(0.5), .int(1)]),
    ])
    // When the grid is listed
    let grid = try GridSearch().configurations(of: space)
    // Then it has 3·2·2 distinct configurations, the last parameter varying fastest, values typed
    #expect(grid.count == 12)
    #expect(Set(grid).count == 12)
    #expect(grid[0] == Configuration(["a": .int(1), "b": .string("x"), "c": .double(0.5)]))
    #expect(grid[1] == Configuration(["a": .int(1), "b": .string("x"), "c": .double(1.0)]))
    #expect(grid[11] == Configuration(["a": .int(3), "b": .string("y"), "c": .double(1.0)]))
  }

  @Test func continuousParameterWithoutValuesIsAClearError() {
    // Given a continuous float with neither values nor grid points
    let space = SearchSpace([.float("lr", 1e-4, 1e-1, log: true)])
    // When grid search is asked / Then the error names the parameter and the fix
    #expect {
      try GridSearch().suggest(1, in: SearchContext(space: space))
    } throws: { error in
      guard let error = error as? SearchStrategyError else { return false }
      return error.code == .invalidSpace && error.message.contains("'lr'") && error.message.contains("grid_points")
    }
  }

  @Test func gridPointsAreLogSpacedForLogParameters() throws {
    // Given a log float with 4 grid points over [1e-4, 1e-1]
    let parameter = Parameter(name: "lr", domain: .float(min: 1e-4, max: 1e-1, log: true, step: nil), gridPoints: 4)
    // When its grid values are listed
    let values = try GridSearch.values(of: parameter).map { $0.numericValue! }
    // Then they are 1e-4, 1e-3, 1e-2, 1e-1 (ends exact)
    #expect(values.count == 4)
    for (value, expected) in zip(values, [1e-4, 1e-3, 1e-2, 1e-1]) { #expect(abs(value / expected - 1) < 1e-9) }
    #expect(values.last == 1e-1)
  }

  @Test func oversizedGridIsAnErrorThatStatesItsSize() {
    // Given 3 ints of 100 values each (10⁶ configurations) and the default limit of 100 000
    let space = SearchSpace([.int("a", 1, 100), .int("b", 1, 100), .int("c", 1, 100)])
    // When grid search is asked / Then the error states the size and the limit
    #expect {
      try GridSearch().suggest(1, in: SearchContext(space: space))
    } throws: { error in
      guard let error = error as? SearchStrategyError else { return false }
      return error.code == .gridTooLarge && error.message.contains("1000000") && error.message.contains("100000")
    }
  }

  @Test func hugeIntegerRangeIsCountedNotEnumerated() {
    // Given an int with a billion values
    let space = SearchSpace([.int("seed", 0, 999_999_999)])
    // When grid search is asked / Then it fails fast with the size, without listing the values
    #expect(throws: SearchStrategyError.self) { try GridSearch().suggest(1, in: SearchContext(space: space)) }
  }

  @Test func conditionalParametersOnlyEnumerateActiveCombinations() throws {
    // Given momentum (2 values) active only for sgd
    let space = SearchSpace([
      .categorical("optimizer", [.string("sgd"), .string("adam")]),
      Parameter(
        name: "momentum", domain: .float(min: 0, max: 0.9, log: false, step: nil),
        conditions: [Condition(parameter: "optimizer", values: [.string("sgd")])],
        gridValues: [.double(0), .double(0.9)]),
    ])
    // When the grid is listed
    let grid = try GridSearch().configurations(of: space)
    // Then there are 2 sgd configurations and a single adam one without momentum
    #expect(grid.count == 3)
    #expect(grid.contains(Configuration(["optimizer": .string("adam")])))
    #expect(try GridSearch.size(space, counts: [2, 2], limit: 100) == 3)
  }

  @Test func skipsObservedAndPendingAndReportsExhaustion() throws {
    // Given a 4-point grid with one observed and one pending configuration
    let space = SearchSpace([.int("a", 1, 4)])
    var context = SearchContext(space: space)
    context.observations = [Observation(configuration: Configuration(["a": .int(1)]), state: .failed, value: nil)]
    // The pending one went through JSON and came back as a double: it still counts.
    context.pending = [Configuration(["a": .double(3)])]
    // When 5 are asked
    let suggestions = try GridSearch().suggest(5, in: context)
    // Then only the 2 unseen come back (fewer than asked: exhausted)
    #expect(suggestions == [Configuration(["a": .int(2)]), Configuration(["a": .int(4)])])
    // And once everything is seen, nothing comes back
    context.pending += suggestions
    #expect(try GridSearch().suggest(1, in: context).isEmpty)
  }

  @Test func shuffledOrderIsASeededPermutation() throws {
    // Given a 20-point grid
    let space = SearchSpace([.int("a", 1, 20)])
    // When it is listed plainly and shuffled with two seeds
    let plain = try GridSearch().configurations(of: space)
    let one = try GridSearch(shuffled: true, seed: 1).configurations(of: space)
    let again = try GridSearch(shuffled: true, seed: 1).configurations(of: space)
    let other = try GridSearch(shuffled: true, seed: 2).configurations(of: space)
    // Then the shuffles are permutations, reproducible per seed, different across seeds
    #expect(Set(one) == Set(plain))
    #expect(one == again)
    #expect(one != other)
    #expect(one != plain)
  }

  @Test func explicitValuesOutsideTheDomainAreRejected() {
    // Given a grid value above the maximum
    let parameter = Parameter(name: "p", domain: .int(min: 0, max: 5, log: false, step: 1), gridValues: [.int(9)])
    // When its values are listed / Then it is an invalid space
    #expect(throws: SearchStrategyError.self) { try GridSearch.values(of: parameter) }
  }
}
