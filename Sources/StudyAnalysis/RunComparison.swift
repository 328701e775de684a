import Foundation
import NumberText
public import SearchStrategies
public import Significance
public import StudyModel
public import TrackingBridge

/// Two to four runs side by side: their final metrics with the difference to the first, the
/// parameters that differ, and what to do next. A run whose configuration ran several times
/// (repeats over seeds or folds) stands for the configuration: each metric is the mean over
/// its completed repeats with the standard deviation and count, and every pair of such
/// configurations gets, per metric, the difference with its confidence interval and p-values.
public struct RunComparison: Codable, Sendable, Hashable {
  public struct Row: Codable, Sendable, Hashable {
    public var name: String
    public var values: [String?]
    /// For metrics: each value's difference to the first run's, in percent.
    public var changes: [Double?]
    public var differs: Bool
    /// For metrics: each run's values over its configuration's repeats (nil: a single value).
    public var summaries: [SampleSummary?] = []
  }

  /// One metric of one pair of configurations with repeats.
  public struct PairTest: Codable, Sendable, Hashable {
    public var metric: String
    /// Trial numbers: the difference is `first` minus `second`.
    public var first: Int
    public var second: Int
    public var difference: Double
    /// The 95% confidence interval of the difference (Welch).
    public var lower: Double
    public var upper: Double
    /// Welch's t-test, two-sided.
    public var pValue: Double
    /// The Mann-Whitney test's, two-sided (exact for small samples without ties).
    public var rankPValue: Double?
    public var counts: [Int]

    enum CodingKeys: String, CodingKey {
      case metric, first, second, difference, lower, upper, counts
      case pValue = "p_value"
      case rankPValue = "rank_p_value"
    }
  }

  /// What the recommendation asks for.
  public enum Action: String, Codable, Sendable, Hashable {
    /// Train `recommendedTrial` in full.
    case trainInFull = "train_in_full"
    /// The difference is within noise: run more repeats of the compared configurations.
    case runMoreRepeats = "run_more_repeats"
    /// Nothing to do (a full training is best, nothing completed).
    case none
  }

  public var trials: [Int]
  public var tiers: [String]
  public var metrics: [Row]
  public var parameters: [Row]
  public var significance: [PairTest] = []
  public var recommendation: String
  public var action: Action = .none
  /// The trial the action is about (the one to train in full, or the best to repeat).
  public var recommendedTrial: Int?

  enum CodingKeys: String, CodingKey {
    case trials, tiers, metrics, parameters, significance, recommendation, action
    case recommendedTrial = "recommended_trial"
  }

  public struct Failure: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// - Parameters:
  ///   - repeats: for a run whose configuration has other trials, every trial of that
  ///     configuration (the run included); runs left out stand alone.
  ///   - studyTrials: every trial of the study, for the advice (its full trainings and the
  ///     quick tests they came from).
  public static func compute(
    runs: [TrialRecord], finalMetrics: [Int64: [String: Double]], objective: String, direction: Direction,
    studyTrials: [TrialRecord], repeats: [Int64: [TrialRecord]] = [:]
  ) throws(Failure) -> RunComparison {
    guard (2...4).contains(runs.count) else {
      throw Failure(description: "compare takes 2 to 4 trials, got \(runs.count)")
    }
    let configurations = runs.map {
      (try? JSONDecoder().decode(Configuration.self, from: Data($0.paramsJSON.utf8))) ?? Configuration()
    }
    // Each column's sample of each metric: the final values of its configuration's completed
    // trials, or the run's own final value.
    let samples: [[String: [Double]]] = runs.map { run in
      let members = (repeats[run.id!] ?? []).filter { $0.state == .completed }
      guard members.count > 1 else { return (finalMetrics[run.id!] ?? [:]).mapValues { [$0] } }
      var values: [String: [Double]] = [:]
      for member in members.sorted(by: { $0.repeatIndex < $1.repeatIndex }) {
        for (name, value) in finalMetrics[member.id!] ?? [:] where value.isFinite {
          values[name, default: []].append(value)
        }
      }
      return values
    }
    let metricNames = Set(samples.flatMap(\.keys)).sorted {
      $0 == objective ? true : $1 == objective ? false : $0 < $1
    }
    let metrics = metricNames.map { name -> Row in
      let summaries = samples.map { $0[name].flatMap(SampleSummary.init) }
      let means = summaries.map { $0?.mean }
      let base = means[0]
      let changes = means.map { value -> Double? in
        guard let value, let base, base != 0 else { return nil }
        return (value - base) / abs(base) * 100
      }
      let texts = summaries.map { summary in
        summary.map { $0.count > 1 ? RepeatGroups.describe($0) : NumberText.of($0.mean) }
      }
      return Row(
        name: name, values: texts, changes: changes,
        differs: Set(means.map { $0.map { NumberText.of($0) } ?? "-" }).count > 1,
        summaries: summaries.map { $0?.count ?? 0 > 1 ? $0 : nil })
    }
    let parameterNames = Set(configurations.flatMap(\.names)).sorted()
    let parameters = parameterNames.map { name -> Row in
      // Shown at four digits; two values that differ further out still count as different.
      let values = configurations.map { $0[name]?.shown }
      let exact = configurations.map { $0[name]?.description ?? "-" }
      return Row(name: name, values: values, changes: values.map { _ in nil }, differs: Set(exact).count > 1)
    }
    var comparison = RunComparison(
      trials: runs.map(\.number), tiers: runs.map(\.tier.rawValue), metrics: metrics, parameters: parameters,
      recommendation: "")
    comparison.significance = pairTests(runs: runs, samples: samples, metrics: metricNames)
    let objectiveSamples = samples.map { $0[objective] ?? [] }
    (comparison.recommendation, comparison.action, comparison.recommendedTrial) = advise(
      runs, objective: objective, direction: direction, studyTrials: studyTrials, samples: objectiveSamples)
    return comparison
  }

  static func pairTests(runs: [TrialRecord], samples: [[String: [Double]]], metrics: [String]) -> [PairTest] {
    var tests: [PairTest] = []
    for metric in metrics {
      for i in runs.indices {
        for j in runs.indices where j > i {
          guard let x = samples[i][metric], let y = samples[j][metric], let welch = WelchTest(x, y) else { continue }
          tests.append(
            PairTest(
              metric: metric, first: runs[i].number, second: runs[j].number, difference: welch.difference,
              lower: welch.lower, upper: welch.upper, pValue: welch.pValue, rankPValue: MannWhitneyTest(x, y)?.pValue,
              counts: [x.count, y.count]))
        }
      }
    }
    return tests
  }

  /// The advice: which run to train in full (or keep), worded by the significance of the
  /// difference when the best two have repeats. Quick tests are ranked against quick tests and
  /// full trainings against full trainings (a full training trains longer: its value says
  /// nothing about a quick test's); a quick test is weighed against the quick test the study's
  /// best full training came from. `studyTrials`: every trial of the study.
  static func advise(
    _ runs: [TrialRecord], objective: String, direction: Direction, studyTrials: [TrialRecord],
    samples: [[Double]]
  ) -> (String, Action, Int?) {
    // Each completed run's value: its configuration's mean when it has repeats.
    let valued = runs.indices.compactMap { index -> (TrialRecord, Double, [Double])? in
      let run = runs[index]
      guard run.state == .completed || samples[index].count > 1 else { return nil }
      let values = samples[index].count > 1 ? samples[index] : (run.value.map { [$0] } ?? [])
      guard !values.isEmpty else { return nil }
      return (run, values.reduce(0, +) / Double(values.count), values)
    }.sorted { direction.isBetter($0.1, than: $1.1) }
    let tier: Tier = valued.contains { $0.0.tier == .quickTest } ? .quickTest : .fullTraining
    let ranked = valued.filter { $0.0.tier == tier }
    guard let (best, bestValue, bestValues) = ranked.first else {
      return ("none of these trials completed with a value of \(objective)", .none, nil)
    }
    let value = NumberText.of(bestValue)
    // A quick test that has its full training already is not trained again.
    let trainInFull = { (advice: String) -> (String, Action, Int?) in
      if let full = studyTrials.first(where: { $0.tier == .fullTraining && $0.sourceTrialId == best.id }) {
        let result = full.value.map { ", \(objective) = \(NumberText.of($0))" } ?? ""
        return (
          "trial \(best.number) is the best quick test of these and already has a full training: trial \(full.number) (\(full.state.rawValue)\(result))",
          .none, nil
        )
      }
      return (advice, .trainInFull, best.number)
    }
    if ranked.count > 1, bestValues.count > 1, ranked[1].2.count > 1,
      let improvement = Improvement(bestValues, over: ranked[1].2, higherIsBetter: direction == .maximize)
    {
      let runnerUp = ranked[1].0
      guard improvement.isSignificant(at: 0.05) else {
        return (
          "the difference between trial \(best.number) and trial \(runnerUp.number) is within noise "
            + "(\(objective) \(improvement.phrase)): run more repeats", .runMoreRepeats, best.number
        )
      }
      let beats = "trial \(best.number) beats trial \(runnerUp.number) by \(improvement.phrase) on \(objective)"
      guard best.tier == .quickTest else { return ("\(beats) (full training): keep it", .none, nil) }
      return trainInFull("\(beats): train it in full")
    }
    guard best.tier == .quickTest else {
      return ("trial \(best.number) is the best full training of these, \(objective) = \(value)", .none, nil)
    }
    let bestFull = studyTrials.filter { $0.tier == .fullTraining && $0.state == .completed && $0.value != nil }
      .min { direction.isBetter($0.value!, than: $1.value!) }
    guard let bestFull, let source = studyTrials.first(where: { $0.id == bestFull.sourceTrialId }),
      source.id != best.id, let sourceValue = source.value
    else {
      return trainInFull(
        "trial \(best.number) is the best quick test of these (\(objective) = \(value)): run full training with it")
    }
    let gain = (bestValue - sourceValue) / max(abs(sourceValue), 1e-12) * 100 * (direction == .maximize ? 1 : -1)
    if gain > 0 {
      return trainInFull(
        String(
          format:
            "trial %d beats trial %d, the quick test of the best full training (trial %d), by %.1f%%: run full training with it",
          best.number, source.number, bestFull.number, gain))
    }
    return (
      String(
        format:
          "trial %d is %.1f%% behind trial %d, the quick test of the best full training (trial %d): keep trial %d",
        best.number, -gain, source.number, bestFull.number, bestFull.number), .none, nil
    )
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
    let repeats = Self.repeats(of: runs, among: all)
    let ids = Set(runs.map { $0.id! } + repeats.values.flatMap { $0.map { $0.id! } })
    let metrics = Dictionary(uniqueKeysWithValues: try ids.map { ($0, try database.finalMetrics(trialId: $0)) })
    let direction = study.direction
    return try compute(
      runs: runs, finalMetrics: metrics, objective: study.objectiveMetric, direction: direction, studyTrials: all,
      repeats: repeats)
  }

  /// For each run whose configuration has other trials in `all`, the trials of it.
  public static func repeats(of runs: [TrialRecord], among all: [TrialRecord]) -> [Int64: [TrialRecord]] {
    let byConfiguration = Dictionary(grouping: all) { $0.configurationId ?? -1 }
    var repeats: [Int64: [TrialRecord]] = [:]
    for run in runs {
      guard let members = byConfiguration[run.configurationId ?? -1], members.count > 1 else { continue }
      repeats[run.id!] = members
    }
    return repeats
  }
}
