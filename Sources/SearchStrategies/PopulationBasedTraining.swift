import Foundation
public import StudyModel

/// Population-based training (Jaderberg et al. 2017): the decisions, without the running.
///
/// A population of trials trains at once. Each time a member has trained another
/// `perturbationInterval` steps, it is ranked by its latest value among the population: a
/// member in the bottom `quantileFraction` copies a member of the top one (exploit: its
/// checkpoint and its parameters) and changes the parameters (explore: each one resampled
/// with `resampleProbability`, else multiplied by one of `perturbationFactors`, a category
/// moved to a neighbour), then trains on from the copied checkpoint. Ray Tune's
/// `PopulationBasedTraining` makes the same decisions under the same names.
public struct PopulationBasedTraining: Sendable, Hashable {
  /// Trials trained at once (the first `population` configurations are drawn at random).
  public var population: Int
  /// Steps a member trains between two rankings.
  public var perturbationInterval: Int
  /// The share of the population at the top that is copied and at the bottom that copies.
  public var quantileFraction: Double
  /// The chance that explore draws a parameter anew instead of perturbing it.
  public var resampleProbability: Double
  /// What explore multiplies a numeric parameter by (one, drawn at random).
  public var perturbationFactors: [Double]

  public init(
    population: Int, perturbationInterval: Int, quantileFraction: Double = 0.25, resampleProbability: Double = 0.25,
    perturbationFactors: [Double] = [0.8, 1.2]
  ) {
    self.population = population
    self.perturbationInterval = perturbationInterval
    self.quantileFraction = quantileFraction
    self.resampleProbability = resampleProbability
    self.perturbationFactors = perturbationFactors
  }

  /// A member of the population as the ranking sees it: its latest value.
  public struct Member: Sendable, Hashable {
    public var id: Int64
    public var value: Double

    public init(id: Int64, value: Double) {
      self.id = id
      self.value = value
    }
  }

  /// How many members the top and the bottom quantile hold: `ceil(n · fraction)`, at most half.
  public func quantileSize(of count: Int) -> Int {
    min(Int((Double(count) * quantileFraction).rounded(.up)), count / 2)
  }

  /// The member `member` should copy, when it ranks in the bottom quantile of `members` (it
  /// among them); nil when it is not there, or the population is too small to have quantiles.
  public func donor(
    for member: Int64, among members: [Member], direction: Direction, using rng: inout SplitMix64
  ) -> Int64? {
    let ranked = members.sorted { a, b in
      a.value != b.value ? direction.isBetter(a.value, than: b.value) : a.id < b.id
    }
    let size = quantileSize(of: ranked.count)
    guard size > 0, ranked.suffix(size).contains(where: { $0.id == member }) else { return nil }
    return ranked.prefix(size).randomElement(using: &rng)?.id
  }

  /// The donor's configuration, explored: each active parameter resampled or perturbed, and
  /// what changed, one phrase per parameter (`lr 0.01 → 0.012 (×1.2)`).
  public func explore(
    _ configuration: Configuration, in space: SearchSpace, using rng: inout SplitMix64
  ) -> (configuration: Configuration, changes: [String]) {
    var explored = Configuration()
    var changes: [String] = []
    for parameter in space.parameters where space.isActive(parameter, in: explored) {
      guard let value = configuration[parameter.name] else {
        // Made active by a change above it: drawn anew.
        explored[parameter.name] = parameter.value(atUnit: rng.nextUnit())
        changes.append("\(parameter.name) drawn (\(explored[parameter.name]!))")
        continue
      }
      let next: ParameterValue
      let how: String
      if rng.nextUnit() < resampleProbability {
        (next, how) = (parameter.value(atUnit: rng.nextUnit()), "resampled")
      } else {
        (next, how) = perturb(value, of: parameter, using: &rng)
      }
      explored[parameter.name] = next
      if next != value { changes.append("\(parameter.name) \(value) → \(next) (\(how))") }
    }
    return (space.canonical(explored), changes)
  }

  /// A numeric value times a factor (kept inside the bounds and on the grid; an integer that
  /// the factor leaves where it was moves one step its way); a category one place up or down.
  func perturb(_ value: ParameterValue, of parameter: Parameter, using rng: inout SplitMix64)
    -> (ParameterValue, String)
  {
    switch parameter.domain {
    case .categorical(let values):
      guard let index = values.firstIndex(where: { Condition.matches($0, value) }) else { return (value, "kept") }
      let moved = min(max(index + (rng.nextUnit() < 0.5 ? -1 : 1), 0), values.count - 1)
      return (values[moved], "shifted")
    case .float(let lo, let hi, _, let step):
      guard let x = value.numericValue, let factor = perturbationFactors.randomElement(using: &rng) else {
        return (value, "kept")
      }
      var y = min(max(x * factor, lo), hi)
      if let step { y = min(lo + ((y - lo) / step).rounded() * step, hi) }
      return (.double(y), "×\(factor)")
    case .int(let lo, let hi, _, let step):
      guard let x = value.numericValue, let factor = perturbationFactors.randomElement(using: &rng) else {
        return (value, "kept")
      }
      var k = Int(((min(max(x * factor, Double(lo)), Double(hi)) - Double(lo)) / Double(step)).rounded())
      let current = Int(((x - Double(lo)) / Double(step)).rounded())
      if k == current, factor != 1 { k += factor > 1 ? 1 : -1 }
      k = min(max(k, 0), (hi - lo) / step)
      return (.int(lo + k * step), "×\(factor)")
    }
  }
}
