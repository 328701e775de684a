import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import StudyAnalysis

@Suite("Parameter importance (Spearman)")
struct ImportanceTests {
  @Test("the parameter that drives the objective ranks first, with its direction; noise ranks last")
  func ranksDrivers() {
    var generator = SplitMix64(seed: 3)
    let trials = (0..<40).map { i -> TrialRecord in
      let lr = Double(i + 1) / 40
      let optimizer = i % 2 == 0 ? "adam" : "sgd"
      let noise = generator.nextUnit()
      let value = -6 * lr + (optimizer == "adam" ? 2 : 0) + 0.01 * generator.nextUnit()
      var trial = TrialRecord(
        studyId: 1, number: i, tier: .quickTest, state: .completed,
        paramsJSON: #"{"lr":\#(lr),"noise":\#(noise),"optimizer":"\#(optimizer)"}"#, value: value)
      trial.id = Int64(i)
      return trial
    }
    let scores = ParameterImportance.compute(trials: trials, direction: .maximize, method: .spearman)
    #expect(scores.map(\.parameter) == ["lr", "optimizer", "noise"])
    #expect(scores[0].score > 0.7 && scores[0].effect == "lower is better")
    #expect(scores[1].kind == "categorical" && scores[1].effect.hasPrefix("best on average: adam"))
    #expect(scores[2].score < 0.35)
  }

  @Test("a parameter only some trials have is scaled by their share, so it cannot outrank one all trials vary")
  func conditionalParameters() {
    let trials = (0..<12).map { i -> TrialRecord in
      let lr = Double(i + 1) / 12
      // momentum exists in 3 trials and tracks the value perfectly there
      let momentum = i < 3 ? #","momentum":\#(Double(i) / 10)"# : ""
      var trial = TrialRecord(
        studyId: 1, number: i, tier: .quickTest, state: .completed,
        paramsJSON: #"{"lr":\#(lr)\#(momentum)}"#, value: lr + (i < 3 ? Double(i) : 0) * 0.001)
      trial.id = Int64(i)
      return trial
    }
    let scores = ParameterImportance.compute(trials: trials, direction: .maximize, method: .spearman)
    #expect(scores.map(\.parameter) == ["lr", "momentum"])
    #expect(abs(scores[1].score - 0.25) < 1e-9, "a perfect correlation over 3 of 12 trials")
    #expect(scores[1].effect == "higher is better (in 3 of 12 trials)")
  }

  @Test("ties share their average rank")
  func ranksTies() {
    #expect(ParameterImportance.ranks([3, 1, 3, 2]) == [2.5, 0, 2.5, 1])
  }
}
