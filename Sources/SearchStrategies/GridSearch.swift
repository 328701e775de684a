import Foundation
public import StudyModel

/// Full-factorial grid search.
///
/// Each parameter contributes a list of values: a categorical parameter its categories; an int
/// parameter, or a float with a `step`, every point of its grid; a continuous float needs
/// explicit `gridValues` or `gridPoints` (N evenly spaced points, log-spaced when `log`), which
/// any numeric parameter may also give to thin its grid. A conditional parameter is enumerated
/// only where it is active, so no configuration appears twice. Grids larger than `limit`
/// configurations are an error that states their size.
///
/// Suggestions walk the grid in order (parameters in space order, the last one fastest;
/// shuffled by `seed` when `shuffled`), skipping every configuration already observed or
/// pending. Fewer suggestions than asked means the grid is exhausted.
public struct GridSearch: SearchStrategy {
  public var shuffled: Bool
  public var seed: UInt64
  public var limit: Int

  public static let defaultLimit = 100_000

  public init(shuffled: Bool = false, seed: UInt64 = 0, limit: Int = GridSearch.defaultLimit) {
    self.shuffled = shuffled
    self.seed = seed
    self.limit = limit
  }

  public var name: String { "grid" }

  public func suggest(_ count: Int, in context: SearchContext) throws -> [Configuration] {
    let grid = try configurations(of: context.space)
    var seen = context.seenConfigurations
    var result: [Configuration] = []
    for configuration in grid where result.count < count {
      if seen.insert(configuration).inserted { result.append(configuration) }
    }
    return result
  }

  /// Every configuration of the grid, in suggestion order.
  public func configurations(of space: SearchSpace) throws -> [Configuration] {
    let counts = try space.parameters.map { try Self.valueCount(of: $0) }
    let size = try Self.size(space, counts: counts, limit: limit)
    guard size <= Double(limit) else {
      let text = size >= 1e15 ? String(format: "%.3g", size) : String(Int(size))
      throw SearchStrategyError(
        .gridTooLarge,
        "grid has \(text) configurations, more than the limit of \(limit); give numeric parameters fewer "
          + "`values` or a smaller `grid_points`, or use random or bayes search")
    }
    let values = try space.parameters.map { try Self.values(of: $0) }
    var result: [Configuration] = []
    result.reserveCapacity(Int(size))
    func enumerate(_ index: Int, _ partial: Configuration) {
      guard index < space.parameters.count else {
        result.append(partial)
        return
      }
      let parameter = space.parameters[index]
      guard space.isActive(parameter, in: partial) else { return enumerate(index + 1, partial) }
      for value in values[index] {
        var next = partial
        next[parameter.name] = value
        enumerate(index + 1, next)
      }
    }
    enumerate(0, Configuration())
    if shuffled {
      var rng = SplitMix64(seed: seed, stream: 4, index: 0)
      result.shuffle(using: &rng)
    }
    return result
  }

  /// The grid's size, counted without enumerating it: parameters that no condition refers to
  /// multiply, only parents of conditional parameters are branched on. When a parent has more
  /// values than `limit` itself, the product of all counts (an upper bound) is returned.
  static func size(_ space: SearchSpace, counts: [Double], limit: Int) throws -> Double {
    let parents = Set(space.parameters.flatMap { $0.conditions.map(\.parameter) })
    let product = counts.reduce(1, *)
    if product <= Double(limit) && parents.isEmpty { return product }
    var parentValues: [Int: [ParameterValue]] = [:]
    for (index, parameter) in space.parameters.enumerated() where parents.contains(parameter.name) {
      guard counts[index] <= Double(limit) else { return product }
      parentValues[index] = try values(of: parameter)
    }
    func count(_ index: Int, _ partial: Configuration) -> Double {
      guard index < space.parameters.count else { return 1 }
      let parameter = space.parameters[index]
      guard space.isActive(parameter, in: partial) else { return count(index + 1, partial) }
      guard let values = parentValues[index] else { return counts[index] * count(index + 1, partial) }
      return values.reduce(0) { total, value in
        var next = partial
        next[parameter.name] = value
        return total + count(index + 1, next)
      }
    }
    return count(0, Configuration())
  }

  /// How many grid values a parameter has, without listing them.
  static func valueCount(of parameter: Parameter) throws -> Double {
    if parameter.gridValues != nil || parameter.gridPoints != nil { return Double(try values(of: parameter).count) }
    switch parameter.domain {
    case .categorical(let values): return Double(values.count)
    case .int(let lo, let hi, _, let step): return Double((hi - lo) / step + 1)
    case .float(let lo, let hi, _, let step?): return ((hi - lo) / step + 1e-9).rounded(.down) + 1
    case .float(_, _, _, nil): return Double(try values(of: parameter).count)
    }
  }

  /// The grid values of one parameter, each a legal value of its domain.
  static func values(of parameter: Parameter) throws -> [ParameterValue] {
    let name = parameter.name
    if let explicit = parameter.gridValues {
      guard !explicit.isEmpty else {
        throw SearchStrategyError(.invalidSpace, "parameter '\(name)': grid `values` is empty")
      }
      let space = SearchSpace([parameter])
      let values = explicit.map { space.canonical(Configuration([name: $0]))[name] ?? $0 }
      if let bad = values.first(where: { !parameter.contains($0) }) {
        throw SearchStrategyError(
          .invalidSpace, "parameter '\(name)': grid value \(bad) is outside its range or off its step")
      }
      return unique(values)
    }
    if let points = parameter.gridPoints {
      guard points >= 1 else {
        throw SearchStrategyError(.invalidSpace, "parameter '\(name)': `grid_points` must be at least 1, got \(points)")
      }
      switch parameter.domain {
      case .categorical(let values):
        return values
      case .float(let lo, let hi, let log, nil) where !parameter.usesLogit:
        guard points > 1 else { return [.double(log ? (lo * hi).squareRoot() : (lo + hi) / 2)] }
        return unique(
          (0..<points).map { i in
            let t = Double(i) / Double(points - 1)
            let x = log ? exp(Foundation.log(lo) + t * (Foundation.log(hi) - Foundation.log(lo))) : lo + t * (hi - lo)
            return .double(i == points - 1 ? hi : Swift.min(Swift.max(x, lo), hi))
          })
      case .float, .int:
        // Evenly spaced over the grid cells (or the logit scale), rounded onto the grid.
        return unique(
          (0..<points).map { i in
            parameter.value(atUnit: points == 1 ? 0.5 : Double(i) / Double(points - 1))
          })
      }
    }
    switch parameter.domain {
    case .categorical(let values):
      return values
    case .int(let lo, let hi, _, let step):
      return stride(from: lo, through: hi, by: step).map { .int($0) }
    case .float(let lo, let hi, _, let step?):
      let count = Int(((hi - lo) / step + 1e-9).rounded(.down))
      return (0...count).map { .double(Swift.min(lo + Double($0) * step, hi)) }
    case .float(_, _, _, nil):
      throw SearchStrategyError(
        .invalidSpace,
        "parameter '\(name)' is continuous: give it `values: [...]` or `grid_points: N` for grid search")
    }
  }

  private static func unique(_ values: [ParameterValue]) -> [ParameterValue] {
    var seen = Set<ParameterValue>()
    return values.filter { seen.insert($0).inserted }
  }
}

extension SearchStrategy where Self == GridSearch {
  /// Full-factorial grid search; `shuffled` visits the grid in a seeded random order.
  public static func grid(shuffled: Bool = false, seed: UInt64 = 0, limit: Int = GridSearch.defaultLimit) -> GridSearch
  {
    GridSearch(shuffled: shuffled, seed: seed, limit: limit)
  }
}
