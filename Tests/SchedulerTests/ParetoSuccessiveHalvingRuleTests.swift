import SearchStrategies
import Testing

@testable import TrialScheduler

@Suite("ASHA for several objectives: rungs ranked by non-dominated sorting and crowding")
struct ParetoSuccessiveHalvingRuleTests {
  /// Curves of (accuracy: maximize, latency: minimize) with one report at step 1.
  func curves(_ number: Int, accuracy: Double, latency: Double) -> [LearningCurve] {
    [
      LearningCurve(trialNumber: number, values: [1: accuracy]),
      LearningCurve(trialNumber: number, values: [1: latency]),
    ]
  }

  let rule = ParetoSuccessiveHalvingRule(
    minResource: 1, reductionFactor: 3, directions: [.maximize, .minimize])

  /// Eight peers: a front of three (0.9/3, 0.8/2, 0.7/1) and five dominated behind it.
  var peers: [[LearningCurve]] {
    [(0.9, 3.0), (0.8, 2.0), (0.7, 1.0), (0.6, 3.0), (0.5, 2.5), (0.65, 2.2), (0.4, 4.0), (0.3, 5.0)].enumerated().map {
      curves($0.offset, accuracy: $0.element.0, latency: $0.element.1)
    }
  }

  @Test("a trial on the rung's front goes on; one behind the top third stops, saying where it ranked")
  func ranksByFronts() {
    // 9 trials at the rung: the top ⌊9/3⌋ = 3 go on.
    let onFront = rule.decide(curves(20, accuracy: 0.95, latency: 0.5), at: 1, peers: peers)
    #expect(onFront == .keepGoing)
    let dominated = rule.decide(curves(21, accuracy: 0.35, latency: 4.5), at: 1, peers: peers)
    guard case .stop(let reason) = dominated else {
      Issue.record("a trial every peer dominates went on")
      return
    }
    // Fronts by hand: {0.9/3, 0.8/2, 0.7/1}, {0.65/2.2}, {0.6/3, 0.5/2.5}, {0.4/4}, then this
    // trial (0.35/4.5, which 0.4/4 dominates), then 0.3/5: eighth of nine.
    #expect(reason.contains("at rung step 1 it is on front 5 of 9 trials there, ranked 8"), "\(reason)")
    #expect(reason.contains("the top 1/3 (3) go on"))
  }

  @Test("within the front, crowding decides: the ends of a front too large for the quota go on")
  func crowdingBreaksTies() {
    // Nine trials all on one front (accuracy and latency rise together): only 3 go on, the
    // two ends (infinite crowding) first.
    let front = (0..<8).map { curves($0, accuracy: 0.5 + Double($0) * 0.05, latency: 1 + Double($0)) }
    #expect(rule.decide(curves(30, accuracy: 0.1, latency: 0.1), at: 1, peers: front) == .keepGoing)
    let middle = rule.decide(curves(31, accuracy: 0.675, latency: 4.5), at: 1, peers: front)
    #expect(middle != .keepGoing, "a crowded middle point of a too-large front stops")
  }

  @Test("no rung reached, or an objective not reported there: the trial goes on")
  func needsEveryObjective() {
    let partial = [LearningCurve(trialNumber: 40, values: [1: 0.1]), LearningCurve(trialNumber: 40, values: [:])]
    #expect(rule.decide(partial, at: 1, peers: peers) == .keepGoing)
    let late = ParetoSuccessiveHalvingRule(minResource: 3, reductionFactor: 3, directions: [.maximize, .minimize])
    #expect(late.decide(curves(41, accuracy: 0, latency: 9), at: 1, peers: peers) == .keepGoing)
  }
}
