import Foundation
import NumberText
public import SearchStrategies
import StudyModel

/// How importance is computed.
public enum ImportanceMethod: String, Codable, Sendable, CaseIterable {
  /// The functional ANOVA of a random forest fitted to the trials (as Optuna's default): each
  /// parameter's share of the objective's variance explained by it alone. Sees an optimum in
  /// the middle of a range.
  case fanova
  /// |Spearman ρ| for numbers, η² for categories: model-free, monotone effects only.
  case spearman
}

extension ParameterImportance {
  /// Forest and grid sizes: bounded, so a 10,000-trial study takes about what a 2,000-trial one does.
  static let forestSettings = RegressionForest.Settings()
  static let effectPoints = 24

  /// One parameter as a forest feature: each row's position in `[0, 1]` (nil where the trial
  /// does not have the parameter) and the value at a position, for the effect's wording.
  struct Feature {
    var name: String
    var kind: String
    var positions: [Double?]
    /// Where to read the main effect (category centres, or a grid over `[0, 1]`).
    var points: [Double]
    var value: (Double) -> String

    var present: Int { positions.count { $0 != nil } }
  }

  static func fanova(
    rows: [(Configuration, Double)], names: [String], direction: Direction, space: SearchSpace?
  ) -> [ParameterImportance] {
    let features = names.compactMap { feature(named: $0, rows: rows, space: space) }
    guard rows.count >= 4, !features.isEmpty else { return [] }
    // A trial without a parameter (a conditional one, inactive) sits in a cell of its own below
    // 0, as wide as the share of such trials, so the uniform measure weighs it as the study did.
    let domain = features.map { feature -> (lower: Double, upper: Double) in
      let missing = Double(rows.count - feature.present) / Double(rows.count)
      return (-missing / (1 - missing), 1)
    }
    let table = rows.indices.map { row in
      features.indices.map { j in features[j].positions[row] ?? domain[j].lower / 2 }
    }
    let forest = RegressionForest(rows: table, targets: rows.map(\.1), domain: domain, settings: forestSettings)
    let anova = FunctionalANOVA(forest, points: features.map(\.points))
    var result: [ParameterImportance] = []
    for (j, feature) in features.enumerated() {
      let share = anova.shares[j]
      var effect = describe(feature, effect: anova.effects[j], share: share, direction: direction)
      if feature.present < rows.count { effect += " (in \(feature.present) of \(rows.count) trials)" }
      result.append(
        ParameterImportance(
          parameter: feature.name, kind: feature.kind, score: share, effect: effect, trials: feature.present))
    }
    return result.sorted { $0.score == $1.score ? $0.parameter < $1.parameter : $0.score > $1.score }
  }

  /// Where the main effect is best: at an end of the range, in between, or for which category.
  static func describe(_ feature: Feature, effect: [Double], share: Double, direction: Direction) -> String {
    guard let best = effect.indices.min(by: { direction.isBetter(effect[$0], than: effect[$1]) }) else { return "" }
    if feature.kind == "categorical" {
      return "best: \(feature.value(feature.points[best])) (\(NumberText.of(effect[best])))"
    }
    guard share >= 0.02 else { return "little effect alone" }
    let edge = max(1, effect.count / 8)
    if best < edge { return "lower is better" }
    if best >= effect.count - edge { return "higher is better" }
    return "best inside the range, near \(feature.value(feature.points[best]))"
  }

  /// The feature of a parameter: on its declared scale when the space has it (log, steps,
  /// categories in their order), else over the observed range (on a log scale when every value
  /// is positive, they span two decades or more and their median sits nearer the middle of the
  /// range in log terms than in linear ones, as log-uniform samples do); nil with fewer than 3 values.
  static func feature(named name: String, rows: [(Configuration, Double)], space: SearchSpace?) -> Feature? {
    let values = rows.map { $0.0[name] }
    guard values.count(where: { $0 != nil }) >= 3 else { return nil }
    let grid = (0..<effectPoints).map { (Double($0) + 0.5) / Double(effectPoints) }
    if let parameter = space?.parameter(named: name) {
      let positions = values.map { $0.flatMap { parameter.unit(of: $0) } }
      guard positions.count(where: { $0 != nil }) >= 3 else { return nil }
      if case .categorical(let choices) = parameter.domain {
        let centres = choices.indices.map { (Double($0) + 0.5) / Double(choices.count) }
        return Feature(
          name: name, kind: "categorical", positions: positions, points: centres,
          value: { parameter.value(atUnit: $0).shown })
      }
      return Feature(
        name: name, kind: "numeric", positions: positions, points: grid, value: { parameter.value(atUnit: $0).shown })
    }
    let present = values.compactMap { $0 }
    if present.allSatisfy({ $0.numericValue?.isFinite == true }) {
      let numbers = present.map { $0.numericValue! }
      let (low, high) = (numbers.min()!, numbers.max()!)
      let median = numbers.sorted()[numbers.count / 2]
      let log =
        low > 0 && high / low >= 100
        && abs((Foundation.log(median / low)) / Foundation.log(high / low) - 0.5)
          < abs((median - low) / (high - low) - 0.5)
      let scale = { (x: Double) in log ? Foundation.log(x) : x }
      let (a, b) = (scale(low), scale(high))
      let positions = values.map { value in value.map { b > a ? (scale($0.numericValue!) - a) / (b - a) : 0.5 } }
      return Feature(
        name: name, kind: "numeric", positions: positions, points: grid,
        value: { u in
          let x = a + u * (b - a)
          return NumberText.of(log ? Foundation.exp(x) : x)
        })
    }
    let categories = Array(Set(present.map(\.description))).sorted()
    let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
    let centre = { (i: Int) in (Double(i) + 0.5) / Double(categories.count) }
    return Feature(
      name: name, kind: "categorical", positions: values.map { $0.map { centre(index[$0.description]!) } },
      points: categories.indices.map(centre),
      value: { categories[min(Int($0 * Double(categories.count)), categories.count - 1)] })
  }
}
