import Foundation
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
    let full = run(3, .fullTraining, #"{"lr":0.1,"opt":"adam"}"#, 0.93)
    let comparison = try RunComparison.compute(
      runs: [a, b], finalMetrics: [1: ["acc": 0.9, "loss": 0.4], 2: ["acc": 0.95, "loss": 0.3]], objective: "acc",
      direction: .maximize, bestFullTraining: full)
    #expect(comparison.metrics.map(\.name) == ["acc", "loss"])
    #expect(abs(comparison.metrics[1].changes[1]! - -25) < 1e-9)
    #expect(comparison.parameters.filter(\.differs).map(\.name) == ["lr"])
    #expect(
      comparison.recommendation == "trial 2 beats the best full training (trial 3) by 2.2%: run full training with it")
  }

  @Test("a full training that wins is named as the best; one trial is not a comparison")
  func fullTrainingWins() throws {
    let quick = run(1, .quickTest, "{}", 0.5)
    let full = run(2, .fullTraining, "{}", 0.2)
    let comparison = try RunComparison.compute(
      runs: [quick, full], finalMetrics: [:], objective: "loss", direction: .minimize, bestFullTraining: full)
    #expect(comparison.recommendation == "trial 2 (full training) is the best of these, loss = 0.2")
    #expect(throws: RunComparison.Failure.self) {
      _ = try RunComparison.compute(
        runs: [quick], finalMetrics: [:], objective: "loss", direction: .minimize, bestFullTraining: nil)
    }
  }
}
