import NumberText
import SearchStrategies
import Yams

// `search: {algorithm: pbt, population, perturbation_interval, ...}`: population-based training.
extension SpecParser {
  static let populationKeys = [
    "population", "perturbation_interval", "quantile_fraction", "resample_probability", "perturbation_factors",
  ]

  /// The PBT settings of a `search:` section (nil, reported, when they are wrong); keys of PBT
  /// under another algorithm are reported too.
  func parsePopulationBasedTraining(_ fields: Fields, algorithm: StudySpec.Algorithm?) -> PopulationBasedTraining? {
    guard algorithm == .pbt else {
      for key in Self.populationKeys where fields[key] != nil {
        reader.report(
          at: fields.keys[key], fields.path(key),
          "\(key) applies to population-based training only (algorithm: pbt; algorithm is \(algorithm?.rawValue ?? "?"))"
        )
      }
      return nil
    }
    if let node = fields["max_trials"] {
      reader.report(
        at: node, "search.max_trials",
        "population-based training trains its population to the end; set search.population instead of max_trials")
    }
    let population =
      fields["population"].map { reader.int($0, fields.path("population"), atLeast: 2, atMost: 256) } ?? 8
    guard let intervalNode = fields["perturbation_interval"] else {
      reader.report(
        at: fields.node, "search",
        "missing required key 'perturbation_interval' (the steps a member trains between two rankings) for pbt")
      return nil
    }
    let interval = reader.int(intervalNode, fields.path("perturbation_interval"), atLeast: 1, atMost: 1_000_000_000)
    let quantile = fraction("quantile_fraction", fields, above: 0, atMost: 0.5, default: 0.25)
    let resample = fraction("resample_probability", fields, above: nil, atMost: 1, default: 0.25)
    let factors =
      fields["perturbation_factors"].map { self.factors($0, fields.path("perturbation_factors")) } ?? [0.8, 1.2]
    guard let population, let interval, let quantile, let resample, let factors else { return nil }
    return PopulationBasedTraining(
      population: population, perturbationInterval: interval, quantileFraction: quantile,
      resampleProbability: resample, perturbationFactors: factors)
  }

  /// A number in `(above, atMost]` (`[0, atMost]` without `above`), `fallback` when not
  /// given; nil (reported) when wrong.
  private func fraction(
    _ key: String, _ fields: Fields, above lower: Double?, atMost upper: Double, default fallback: Double
  ) -> Double? {
    guard let node = fields[key] else { return fallback }
    guard let value = reader.double(node, fields.path(key)) else { return nil }
    let low = lower ?? 0
    guard value <= upper, lower == nil ? value >= low : value > low else {
      let (low, upper, value) = (NumberText.of(low), NumberText.of(upper), NumberText.of(value))
      let range = lower == nil ? "from \(low) to \(upper)" : "above \(low), at most \(upper)"
      reader.report(at: node, fields.path(key), "expected a number \(range), found \(value)")
      return nil
    }
    return value
  }

  /// `[0.8, 1.2]`: one to eight positive numbers.
  private func factors(_ node: Node, _ path: String) -> [Double]? {
    guard let items = reader.list(node, path, of: "positive numbers such as [0.8, 1.2]") else { return nil }
    guard (1...8).contains(items.count) else {
      reader.report(at: node, path, "expected one to eight factors, found \(items.count)")
      return nil
    }
    var factors: [Double] = []
    for (index, item) in items.enumerated() {
      guard let factor = reader.double(item, "\(path)[\(index)]") else { return nil }
      guard factor > 0, factor <= 1000 else {
        reader.report(
          at: item, "\(path)[\(index)]", "expected a factor above 0 and at most 1000, found \(NumberText.of(factor))")
        return nil
      }
      factors.append(factor)
    }
    return factors
  }

  /// What population-based training cannot go with, reported where the spec asks for it.
  func checkPopulationBasedTraining(_ search: StudySpec.Search?, objectives: [StudySpec.Objective]?, top: Fields) {
    guard search?.algorithm == .pbt else { return }
    if let node = top["early_stopping"] {
      reader.report(
        at: node, "early_stopping",
        "population-based training stops no trial early: its bottom members copy better ones instead; remove early_stopping"
      )
    }
    if let objectives, objectives.count > 1 {
      reader.report(
        at: top["objectives"], "objectives", "population-based training ranks its members by one objective")
    }
    if top["trial"] == nil {
      reader.report(
        at: top["search"], "search.algorithm",
        "population-based training copies and resumes hpod's trials from their checkpoints; add trial.command")
    }
  }
}
