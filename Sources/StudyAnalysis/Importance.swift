import Foundation
import NumberText
public import SearchStrategies
public import StudyModel
public import TrackingBridge

/// How much each parameter explains the objective over a study's completed trials, in [0, 1]:
/// by default (`ImportanceMethod.fanova`) the share of the objective's variance a parameter
/// explains alone in a functional ANOVA of a random forest fitted to the trials; for
/// comparison (`.spearman`), |Spearman rank correlation| for numeric parameters and η²
/// (variance explained by the category means) for categorical ones, which misses an optimum
/// in the middle of a range.
public struct ParameterImportance: Codable, Sendable, Hashable {
  public var parameter: String
  public var kind: String
  public var score: Double
  /// The direction of the effect, in words (`higher is better`, `best: adam (0.93)`).
  public var effect: String
  public var trials: Int

  /// - Parameters:
  ///   - configurations: the trials' configurations by id, when the caller has them decoded.
  ///   - space: the study's search space, whose scales (log, categories) the forest uses;
  ///     without it, the observed ranges.
  public static func compute(
    trials: [TrialRecord], direction: Direction, tier: Tier? = .quickTest,
    configurations: [Int64: Configuration]? = nil, space: SearchSpace? = nil, method: ImportanceMethod = .fanova
  ) -> [ParameterImportance] {
    let completed = trials.filter {
      $0.state == .completed && $0.value?.isFinite == true && (tier == nil || $0.tier == tier)
    }
    let rows = completed.map {
      (
        configurations?[$0.id!]
          ?? (try? JSONDecoder().decode(Configuration.self, from: Data($0.paramsJSON.utf8))) ?? Configuration(),
        $0.value!
      )
    }
    let names = Set(rows.flatMap { $0.0.names }).sorted()
    switch method {
    case .fanova: return fanova(rows: rows, names: names, direction: direction, space: space)
    case .spearman: return spearman(rows: rows, names: names, direction: direction)
    }
  }

  static func spearman(rows: [(Configuration, Double)], names: [String], direction: Direction)
    -> [ParameterImportance]
  {
    var result: [ParameterImportance] = []
    for name in names {
      let pairs = rows.compactMap { configuration, value in configuration[name].map { ($0, value) } }
      guard pairs.count >= 3 else { continue }
      if pairs.allSatisfy({ $0.0.numericValue != nil }) {
        let xs = pairs.map { $0.0.numericValue! }
        let rho = spearman(xs, pairs.map(\.1))
        let better = (rho > 0) == (direction == .maximize)
        result.append(
          ParameterImportance(
            parameter: name, kind: "numeric", score: abs(rho),
            effect: abs(rho) < 0.1 ? "no clear trend" : better ? "higher is better" : "lower is better",
            trials: pairs.count))
      } else {
        let groups = Dictionary(grouping: pairs, by: { $0.0.description }).mapValues { $0.map(\.1) }
        let all = pairs.map(\.1)
        let mean: Double = all.reduce(0, +) / Double(all.count)
        let total: Double = all.map { (value: Double) -> Double in (value - mean) * (value - mean) }.reduce(0, +)
        let means: [String: Double] = groups.mapValues { $0.reduce(0, +) / Double($0.count) }
        var between = 0.0
        for (key, values) in groups {
          let gap = means[key]! - mean
          between += Double(values.count) * gap * gap
        }
        let best = means.min { a, b in direction.isBetter(a.value, than: b.value) }!
        result.append(
          ParameterImportance(
            parameter: name, kind: "categorical", score: total > 0 ? between / total : 0,
            effect: "best on average: \(best.key) (\(NumberText.of(best.value)))", trials: pairs.count))
      }
    }
    // A conditional parameter (momentum only for sgd) is judged on the trials that have it;
    // scaled by that share, three trials' perfect correlation does not outrank a parameter
    // every trial varies.
    for index in result.indices where result[index].trials < rows.count {
      result[index].score *= Double(result[index].trials) / Double(rows.count)
      result[index].effect += " (in \(result[index].trials) of \(rows.count) trials)"
    }
    return result.sorted { $0.score > $1.score }
  }

  static func spearman(_ x: [Double], _ y: [Double]) -> Double {
    let rx = ranks(x)
    let ry = ranks(y)
    let mx = rx.reduce(0, +) / Double(rx.count)
    let my = ry.reduce(0, +) / Double(ry.count)
    var num = 0.0
    var dx = 0.0
    var dy = 0.0
    for i in rx.indices {
      num += (rx[i] - mx) * (ry[i] - my)
      dx += (rx[i] - mx) * (rx[i] - mx)
      dy += (ry[i] - my) * (ry[i] - my)
    }
    return dx > 0 && dy > 0 ? num / (dx * dy).squareRoot() : 0
  }

  /// Ranks with ties sharing their average rank.
  static func ranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
      var end = start
      while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
      for k in start...end { ranks[order[k]] = Double(start + end) / 2 }
      start = end + 1
    }
    return ranks
  }
}

extension ParameterImportance {
  /// The importance of each parameter of a stored study for `metric` (default: the
  /// objective, in the study's direction; another metric in `direction`).
  public static func load(
    database: AppDatabase, study: StudyRecord, metric: String? = nil, direction: Direction? = nil,
    tier: Tier? = .quickTest, space: SearchSpace? = nil, method: ImportanceMethod = .fanova
  ) throws -> [ParameterImportance] {
    var trials = try database.trials(studyId: study.id!)
    if let metric, metric != study.objectiveMetric {
      let values = try database.lastMetricValues(studyId: study.id!)
      trials = trials.map { trial in
        var trial = trial
        trial.value = values[trial.id!]?[metric]
        return trial
      }
    }
    return compute(
      trials: trials, direction: direction ?? study.direction, tier: tier,
      space: space, method: method)
  }
}
