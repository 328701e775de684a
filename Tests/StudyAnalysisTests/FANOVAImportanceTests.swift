import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import StudyAnalysis

@Suite("Parameter importance (fANOVA)")
struct FANOVAImportanceTests {
  /// Completed quick tests with the given parameters (JSON object bodies) and values.
  static func trials(_ rows: [(params: String, value: Double)]) -> [TrialRecord] {
    rows.enumerated().map { index, row in
      var trial = TrialRecord(
        studyId: 1, number: index, tier: .quickTest, state: .completed, paramsJSON: "{\(row.params)}",
        value: row.value)
      trial.id = Int64(index)
      return trial
    }
  }

  /// x and y uniform in [0, 1]; the loss is least at x = 0.5 and does not depend on y.
  static func interiorOptimum(count: Int, seed: UInt64 = 11) -> [TrialRecord] {
    var generator = SplitMix64(seed: seed)
    return trials(
      (0..<count).map { _ in
        let (x, y) = (generator.nextUnit(), generator.nextUnit())
        return (#""x":\#(x),"y":\#(y)"#, (x - 0.5) * (x - 0.5) + 0.002 * generator.nextUnit())
      })
  }

  @Test("a parameter whose optimum is in the middle of its range ranks first; one the objective ignores, last")
  func interiorOptimumRanksFirst() throws {
    let trials = Self.interiorOptimum(count: 200)
    let scores = ParameterImportance.compute(trials: trials, direction: .minimize)
    #expect(scores.map(\.parameter) == ["x", "y"])
    let x = try #require(scores.first)
    #expect(x.score > 0.8, "x explains nearly all the variance: \(x.score)")
    #expect(
      x.effect.hasPrefix("best inside the range, near 0.4") || x.effect.hasPrefix("best inside the range, near 0.5"),
      "\(x.effect)")
    #expect(scores[1].score < 0.05 && scores[1].effect == "little effect alone")
    // Spearman, for comparison, sees no trend in x and cannot tell it from y
    let spearman = ParameterImportance.compute(trials: trials, direction: .minimize, method: .spearman)
    #expect(spearman.first { $0.parameter == "x" }!.score < 0.2)
  }

  @Test("monotone effects read as higher or lower is better; the best category is named")
  func monotoneAndCategorical() {
    var generator = SplitMix64(seed: 5)
    let trials = Self.trials(
      (0..<120).map { i in
        let lr = generator.nextUnit()
        let optimizer = ["adam", "sgd", "rmsprop"][i % 3]
        let value = 3 * lr + (optimizer == "sgd" ? 2 : 0) + 0.01 * generator.nextUnit()
        return (#""lr":\#(lr),"optimizer":"\#(optimizer)""#, value)
      })
    let scores = ParameterImportance.compute(trials: trials, direction: .maximize)
    let lr = scores.first { $0.parameter == "lr" }
    let optimizer = scores.first { $0.parameter == "optimizer" }
    #expect(lr?.effect == "higher is better")
    #expect(optimizer?.kind == "categorical" && optimizer?.effect.hasPrefix("best: sgd") == true)
    #expect(scores.map(\.parameter) == ["optimizer", "lr"], "sgd's +2 outweighs lr's range of 3 spread uniformly")
  }

  @Test("on a declared log scale the optimum is found in decades and named as a value of the parameter")
  func logScaleFromTheSpace() throws {
    var generator = SplitMix64(seed: 9)
    let space = SearchSpace([.float("lr", 1e-5, 1e-1, log: true), .int("layers", 1, 8)])
    let trials = Self.trials(
      (0..<300).map { _ in
        let exponent = -5 + 4 * generator.nextUnit()
        let layers = 1 + Int(generator.next() % 8)
        let distance = exponent + 3  // best at lr = 1e-3
        return (#""lr":\#(pow(10, exponent)),"layers":\#(layers)"#, distance * distance)
      })
    let scores = ParameterImportance.compute(trials: trials, direction: .minimize, space: space)
    let lr = try #require(scores.first)
    // Without the space, the observed values' spread tells the log scale
    let guessed = ParameterImportance.compute(trials: trials, direction: .minimize)
    #expect(
      guessed.first?.parameter == "lr" && guessed.first?.effect.hasPrefix("best inside the range, near 0.00") == true)
    #expect(lr.parameter == "lr" && lr.score > 0.8)
    let shown = try #require(Double(lr.effect.replacingOccurrences(of: "best inside the range, near ", with: "")))
    #expect(shown > 3e-4 && shown < 3e-3, "\(lr.effect)")
  }

  @Test("a conditional parameter is judged with the trials that lack it in a cell of their own")
  func conditionalParameter() {
    var generator = SplitMix64(seed: 4)
    let trials = Self.trials(
      (0..<150).map { i in
        let lr = generator.nextUnit()
        guard i % 3 == 0 else { return (#""lr":\#(lr),"optimizer":"adam""#, lr) }
        let momentum = generator.nextUnit()
        return (#""lr":\#(lr),"optimizer":"sgd","momentum":\#(momentum)"#, lr + 0.01 * momentum)
      })
    let scores = ParameterImportance.compute(trials: trials, direction: .minimize)
    #expect(scores.first?.parameter == "lr")
    let momentum = scores.first { $0.parameter == "momentum" }
    #expect(momentum?.trials == 50 && momentum?.effect.hasSuffix("(in 50 of 150 trials)") == true)
    #expect((momentum?.score ?? 1) < 0.1)
  }

  @Test("the same trials give the same figures every time (CLI and API agree)")
  func deterministic() {
    let trials = Self.interiorOptimum(count: 80)
    #expect(
      ParameterImportance.compute(trials: trials, direction: .minimize)
        == ParameterImportance.compute(trials: trials, direction: .minimize))
  }

  // 3,000 trials, not bench/dashboard's 10,000: the forest grows on every core, and this
  // suite runs beside tests that time how fast hpod answers.
  @Test("a 3,000-trial study's importance is bounded in time", .timeLimit(.minutes(1)))
  func tenThousandTrials() {
    var generator = SplitMix64(seed: 2)
    let trials = Self.trials(
      (0..<3_000).map { _ in
        let p = (0..<5).map { _ in generator.nextUnit() }
        let params = p.enumerated().map { #""p\#($0.offset)":\#($0.element)"# }.joined(separator: ",")
        return (params, (p[0] - 0.3) * (p[0] - 0.3) + 0.1 * p[1] + 0.01 * generator.nextUnit())
      })
    let start = ContinuousClock.now
    let scores = ParameterImportance.compute(trials: trials, direction: .minimize)
    let elapsed = ContinuousClock.now - start
    print("fANOVA importance of 3,000 trials × 5 parameters: \(elapsed)")
    #expect(scores.first?.parameter == "p0" && scores[1].parameter == "p1")
  }
}
