import Foundation
public import SearchStrategies
public import TrackingBridge

/// Two to four runs side by side: their final metrics with the difference to the first, the
/// parameters that differ, and what to do next.
public struct RunComparison: Codable, Sendable, Hashable {
  public struct Row: Codable, Sendable, Hashable {
    public var name: String
    public var values: [String?]
    /// For metrics: each value's difference to the first run's, in percent.
    public var changes: [Double?]
    public var differs: Bool
  }

  public var trials: [Int]
  public var tiers: [String]
  public var metrics: [Row]
  public var parameters: [Row]
  public var recommendation: String

  public struct Failure: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// - Parameters:
  ///   - bestFullTraining: the study's best completed full training, if any, for the advice.
  public static func compute(
    runs: [TrialRecord], finalMetrics: [Int64: [String: Double]], objective: String, direction: Direction,
    bestFullTraining: TrialRecord?
  ) throws(Failure) -> RunComparison {
    guard (2...4).contains(runs.count) else {
      throw Failure(description: "compare takes 2 to 4 trials, got \(runs.count)")
    }
    let configurations = runs.map {
      (try? JSONDecoder().decode(Configuration.self, from: Data($0.paramsJSON.utf8))) ?? Configuration()
    }
    let metricNames = Set(runs.flatMap { finalMetrics[$0.id!]?.keys.map { $0 } ?? [] }).sorted {
      $0 == objective ? true : $1 == objective ? false : $0 < $1
    }
    let metrics = metricNames.map { name -> Row in
      let values = runs.map { finalMetrics[$0.id!]?[name] }
      let base = values[0]
      let changes = values.map { value -> Double? in
        guard let value, let base, base != 0 else { return nil }
        return (value - base) / abs(base) * 100
      }
      return Row(
        name: name, values: values.map { $0.map { String(format: "%.4g", $0) } }, changes: changes,
        differs: Set(values.map { $0.map { String(format: "%.4g", $0) } ?? "-" }).count > 1)
    }
    let parameterNames = Set(configurations.flatMap(\.names)).sorted()
    let parameters = parameterNames.map { name -> Row in
      let values = configurations.map { $0[name]?.description }
      return Row(
        name: name, values: values, changes: values.map { _ in nil }, differs: Set(values.map { $0 ?? "-" }).count > 1)
    }
    return RunComparison(
      trials: runs.map(\.number), tiers: runs.map(\.tier.rawValue), metrics: metrics, parameters: parameters,
      recommendation: advise(runs, objective: objective, direction: direction, bestFullTraining: bestFullTraining))
  }

  static func advise(_ runs: [TrialRecord], objective: String, direction: Direction, bestFullTraining: TrialRecord?)
    -> String
  {
    let valued = runs.filter { $0.state == .completed && $0.value != nil }
    guard let best = valued.min(by: { direction.isBetter($0.value!, than: $1.value!) }) else {
      return "none of these trials completed with a value of \(objective)"
    }
    let value = String(format: "%.4g", best.value!)
    guard best.tier == .quickTest else {
      return "trial \(best.number) (full training) is the best of these, \(objective) = \(value)"
    }
    guard let full = bestFullTraining, let fullValue = full.value else {
      return "trial \(best.number) is the best of these (\(objective) = \(value)): run full training with it"
    }
    let gain = (best.value! - fullValue) / max(abs(fullValue), 1e-12) * 100 * (direction == .maximize ? 1 : -1)
    if gain > 0 {
      return String(
        format: "trial %d beats the best full training (trial %d) by %.1f%%: run full training with it", best.number,
        full.number, gain)
    }
    return String(
      format: "trial %d is the best of these but %.1f%% behind the best full training (trial %d): keep trial %d",
      best.number, -gain, full.number, full.number)
  }
}

extension RunComparison {
  /// The comparison of trials of a stored study, by their numbers.
  public static func load(database: AppDatabase, study: StudyRecord, numbers: [Int]) throws -> RunComparison {
    let all = try database.trials(studyId: study.id!)
    let runs = try numbers.map { number -> TrialRecord in
      guard let trial = all.first(where: { $0.number == number }) else {
        throw Failure(description: "study \(study.id!) has no trial \(number) (it has 0...\(all.count - 1))")
      }
      return trial
    }
    let metrics = Dictionary(
      uniqueKeysWithValues: try runs.map { ($0.id!, try database.finalMetrics(trialId: $0.id!)) })
    let direction = Direction(rawValue: study.direction) ?? .minimize
    let best = try database.summary(studyId: study.id!, higherIsBetter: direction == .maximize).best
    return try compute(
      runs: runs, finalMetrics: metrics, objective: study.objectiveMetric, direction: direction,
      bestFullTraining: best.flatMap { $0.tier == .fullTraining ? $0 : nil })
  }
}
