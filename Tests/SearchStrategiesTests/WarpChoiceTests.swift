import Foundation
import StudyModel
import Testing

@testable import SearchStrategies

struct WarpChoiceTests {
  /// A positive loss spanning e⁰…e⁸ over the unit square, which the warped GP explains better.
  static func steep(_ c: Configuration) -> Double {
    exp(4 * (c["x0"]!.numericValue! + c["x1"]!.numericValue!))
  }

  static let space = SearchSpace([.float("x0", 0, 1), .float("x1", 0, 1)])

  /// `count` uniformly random observations of `loss`.
  static func history(_ count: Int, seed: UInt64, _ loss: (Configuration) -> Double) -> SearchContext {
    var rng = SplitMix64(seed: seed)
    var context = SearchContext(space: space)
    for _ in 0..<count {
      let c = space.configuration(atUnit: [rng.nextUnit(), rng.nextUnit()])
      context.observations.append(.completed(c, loss(c)))
    }
    return context
  }

  @Test func policyReusesFromItsThresholdUntilTheHistoryHasGrownByTheFraction() {
    let policy = WarpChoices.Policy(from: 200, growth: 0.05)
    #expect(!policy.reuses(decidedAt: 199, count: 200))
    #expect(policy.reuses(decidedAt: 200, count: 200))
    #expect(policy.reuses(decidedAt: 200, count: 209))
    #expect(!policy.reuses(decidedAt: 200, count: 210))
    #expect(policy.reuses(decidedAt: 1000, count: 1049))
    #expect(!policy.reuses(decidedAt: 1000, count: 1050))
    #expect(!WarpChoices.Policy.never.reuses(decidedAt: 1000, count: 1000))
  }

  @Test func bothGPsAreComparedAgainOnceTheHistoryHasGrownByTheFraction() throws {
    // Given a strategy that reuses decisions from 20 observations on for 25% more
    var strategy = BayesianOptimization(seed: 1)
    strategy.warpReuse = WarpChoices.Policy(from: 20, growth: 0.25)
    let encoding = SpaceEncoding(Self.space)
    var context = Self.history(20, seed: 7, Self.steep)
    var rng = SplitMix64(seed: 8)
    // When the model is built on histories of 20, 21, …, 40 observations
    var decidedAt: [Int] = []
    for _ in 20...40 {
      _ = try strategy.model(context, encoding: encoding)
      decidedAt.append(try #require(strategy.warpChoices.recorded.last).count)
      let c = Self.space.configuration(atUnit: [rng.nextUnit(), rng.nextUnit()])
      context.observations.append(.completed(c, Self.steep(c)))
    }
    // Then both GPs were fitted and compared at 20, then at 25 (≥ 20·1.25), 32 (≥ 25·1.25 =
    // 31.25) and 40 (= 32·1.25), and the decision was reused in between
    let expected =
      Array(repeating: 20, count: 5) + Array(repeating: 25, count: 7) + Array(repeating: 32, count: 8) + [40]
    #expect(decidedAt == expected)
  }

  @Test func aHistoryThatDoesNotExtendTheDecidedOneIsDecidedAfresh() throws {
    // Given a decision on 20 observations
    var strategy = BayesianOptimization(seed: 1)
    strategy.warpReuse = WarpChoices.Policy(from: 20, growth: 1)
    let encoding = SpaceEncoding(Self.space)
    var context = Self.history(21, seed: 7, Self.steep)
    let last = context.observations.removeLast()
    _ = try strategy.model(context, encoding: encoding)
    #expect(strategy.warpChoices.recorded.map(\.count) == [20])
    // When an earlier loss differs in the next history (not the decided one extended)
    context.observations.append(last)
    context.observations[3].value! *= 2
    _ = try strategy.model(context, encoding: encoding)
    // Then both GPs are fitted and compared on it
    #expect(strategy.warpChoices.recorded.map(\.count) == [20, 21])
    // And a new strategy instance shares nothing with the first one
    let fresh = BayesianOptimization(seed: 1)
    #expect(fresh.warpChoices.recorded.isEmpty)
  }

  @Test(arguments: [false, true])
  func suggestionsWithAndWithoutReuseAgreeWhileTheChoiceHolds(steep: Bool) throws {
    // Given one strategy that compares both GPs at every suggestion and one that reuses its
    // decisions from 20 observations on for 50% more, on a steep (warped) or a bowl (plain) loss
    func loss(_ c: Configuration) -> Double {
      steep ? Self.steep(c) : pow(c["x0"]!.numericValue! - 0.3, 2) + pow(c["x1"]!.numericValue! - 0.6, 2)
    }
    var always = BayesianOptimization(seed: 2, candidates: 64)
    always.warpReuse = .never
    var reusing = BayesianOptimization(seed: 2, candidates: 64)
    reusing.warpReuse = WarpChoices.Policy(from: 20, growth: 0.5)
    var context = Self.history(20, seed: 9, loss)
    // When both suggest on the same histories of 20 to 34 observations (the one that compares
    // first, so that both find the same fits in the process-wide cache)
    var reusedAndAgreed = 0
    for _ in 0..<15 {
      let compared = try always.suggest(1, in: context)[0]
      let choice = try #require(always.warpChoices.recorded.last).warped
      let suggestion = try reusing.suggest(1, in: context)[0]
      let decision = try #require(reusing.warpChoices.recorded.last)
      // Then whenever the reused decision is the one a comparison makes, so is the suggestion
      if decision.warped == choice {
        #expect(suggestion == compared, "at \(context.observations.count) observations")
        if decision.count < context.observations.count { reusedAndAgreed += 1 }
      }
      context.observations.append(.completed(compared, loss(compared)))
    }
    // And most suggestions reused a decision that still held (and the steep loss is warped)
    #expect(reusedAndAgreed >= 8)
    #expect(try #require(reusing.warpChoices.recorded.last).warped == steep)
  }
}
