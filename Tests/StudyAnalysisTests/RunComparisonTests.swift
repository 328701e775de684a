import Foundation
import StudyModel
import Testing
import TrackingBridge

@testable import StudyAnalysis

@Suite("Run comparison")
struct RunComparisonTests {
  func run(_ id: Int64, _ tier: Tier, _ params: String, _ value: Double) -> TrialRecord {
    var trial = TrialRecord(
      studyId: 1, number: Int(id), tier: tier, state: .completed, paramsJSON: params, value: value)
    trial.id = id
    return trial
  }

  @Test("metrics side by side with the change, differing parameters flagged, and advice to train the winner in full")
  func comparesAndAdvises() throws {
    let a = run(1, .quickTest, #"{"lr":0.1,"opt":"adam"}"#, 0.90)
    let b = run(2, .quickTest, #"{"lr":0.2,"opt":"adam"}"#, 0.95)
    var full = run(3, .fullTraining, #"{"lr":0.1,"opt":"adam"}"#, 0.93)
    full.sourceTrialId = a.id
    let comparison = try RunComparison.compute(
      runs: [a, b], finalMetrics: [1: ["acc": 0.9, "loss": 0.4], 2: ["acc": 0.95, "loss": 0.3]], objective: "acc",
      direction: .maximize, studyTrials: [a, b, full])
    #expect(comparison.metrics.map(\.name) == ["acc", "loss"])
    #expect(abs(comparison.metrics[1].changes[1]! - -25) < 1e-9)
    #expect(comparison.parameters.filter(\.differs).map(\.name) == ["lr"])
    #expect(
      comparison.recommendation
        == "trial 2 beats trial 1, the quick test of the best full training (trial 3), by 5.6%: run full training with it"
    )
    #expect(comparison.action == .trainInFull && comparison.recommendedTrial == 2)
  }

  @Test(
    "a quick test is weighed against quick tests, never against a full training's value, and one with its full training is not trained again"
  )
  func ranksWithinTiers() throws {
    // Given quick tests of 0.80 and 0.85, and the 0.80 one trained in full to 0.97
    let a = run(1, .quickTest, #"{"lr":0.1}"#, 0.80)
    let b = run(2, .quickTest, #"{"lr":0.2}"#, 0.85)
    var full = run(3, .fullTraining, #"{"lr":0.1}"#, 0.97)
    full.sourceTrialId = a.id
    // Then the better quick test is offered a full training (its quick test beats the full
    // training's), although 0.85 is below the full training's 0.97
    let both = try RunComparison.compute(
      runs: [a, b], finalMetrics: [:], objective: "acc", direction: .maximize, studyTrials: [a, b, full])
    #expect(both.action == .trainInFull && both.recommendedTrial == 2, "\(both.recommendation)")
    // and a quick test compared with its own full training is not trained again
    let own = try RunComparison.compute(
      runs: [a, full], finalMetrics: [:], objective: "acc", direction: .maximize, studyTrials: [a, full])
    #expect(
      own.recommendation
        == "trial 1 is the best quick test of these and already has a full training: trial 3 (completed, acc = 0.97)")
    #expect(own.action == .none)
  }

  @Test("full trainings are ranked among themselves; one trial is not a comparison")
  func fullTrainingWins() throws {
    let first = run(1, .fullTraining, "{}", 0.5)
    let second = run(2, .fullTraining, "{}", 0.2)
    let comparison = try RunComparison.compute(
      runs: [first, second], finalMetrics: [:], objective: "loss", direction: .minimize, studyTrials: [first, second])
    #expect(comparison.recommendation == "trial 2 is the best full training of these, loss = 0.2")
    #expect(throws: RunComparison.Failure.self) {
      _ = try RunComparison.compute(
        runs: [first], finalMetrics: [:], objective: "loss", direction: .minimize, studyTrials: [first])
    }
  }
}

@Suite("Run comparison over repeats")
struct RepeatedComparisonTests {
  /// A configuration's trials: the first, then its repeats, with their accuracies.
  func configuration(first id: Int64, _ accuracies: [Double], params: String) -> [TrialRecord] {
    accuracies.enumerated().map { index, accuracy in
      var trial = TrialRecord(
        studyId: 1, number: Int(id) + index, tier: .quickTest, state: .completed, paramsJSON: params, value: accuracy,
        repeatOf: index == 0 ? nil : id, repeatIndex: index)
      trial.id = id + Int64(index)
      return trial
    }
  }

  func compare(_ a: [TrialRecord], _ b: [TrialRecord]) throws -> RunComparison {
    let metrics = Dictionary(uniqueKeysWithValues: (a + b).map { ($0.id!, ["acc": $0.value!]) })
    return try RunComparison.compute(
      runs: [a[0], b[0]], finalMetrics: metrics, objective: "acc", direction: .maximize, studyTrials: a + b,
      repeats: RunComparison.repeats(of: [a[0], b[0]], among: a + b))
  }

  @Test(
    "configurations with repeats show mean ± sd, the difference with its interval and p-values, and a worded verdict")
  func significantDifference() throws {
    // The accuracies of scipy's known Welch case (t = 4.0038, p = 0.005194)
    let a = configuration(first: 10, [0.912, 0.918, 0.915, 0.921, 0.909], params: #"{"lr":0.1}"#)
    let b = configuration(first: 20, [0.905, 0.899, 0.908, 0.902], params: #"{"lr":0.3}"#)
    let comparison = try compare(a, b)
    #expect(comparison.metrics[0].values[0] == "0.915 ± 0.0047 (n = 5)")
    #expect(comparison.metrics[0].summaries[1]?.count == 4)
    let test = try #require(comparison.significance.first)
    #expect(test.metric == "acc" && test.first == 10 && test.second == 20 && test.counts == [5, 4])
    #expect(abs(test.pValue - 0.005194223807713698) < 1e-8)
    #expect(abs(test.lower - 0.00470433915473937) < 1e-8 && abs(test.upper - 0.01829566084526054) < 1e-8)
    #expect(test.rankPValue != nil)
    #expect(comparison.action == .trainInFull && comparison.recommendedTrial == 10)
    #expect(
      comparison.recommendation == "trial 10 beats trial 20 by 0.0115 ± 0.0068, p = 0.0052 on acc: train it in full")
  }

  @Test("a difference within noise says so and asks for more repeats")
  func withinNoise() throws {
    let a = configuration(first: 10, [1, 2, 3], params: #"{"lr":0.1}"#)
    let b = configuration(first: 20, [1.5, 2.5, 9], params: #"{"lr":0.3}"#)
    let comparison = try compare(a, b)
    #expect(abs(comparison.significance[0].pValue - 0.4273367389662567) < 1e-8)
    #expect(comparison.action == .runMoreRepeats && comparison.recommendedTrial == 20)
    #expect(comparison.recommendation.hasPrefix("the difference between trial 20 and trial 10 is within noise"))
    #expect(comparison.recommendation.hasSuffix("run more repeats"))
  }
}
