import SearchStrategies
import Testing

@testable import TrialScheduler

/// A curve with values at steps 1, 2, 3, ...
func curve(_ number: Int, _ values: [Double], complete: Bool = false) -> LearningCurve {
  LearningCurve(
    trialNumber: number, isComplete: complete,
    values: Dictionary(uniqueKeysWithValues: values.enumerated().map { ($0.offset + 1, $0.element) }))
}

@Suite("Early-stopping rules")
struct EarlyStoppingRuleTests {
  /// Five completed peers whose step-3 values are 0.5 ... 0.9 (median 0.7).
  let completedPeers = (0..<5).map { curve($0, [0.1, 0.2, 0.5 + Double($0) * 0.1], complete: true) }

  @Test("median: stops a trial whose best is below the completed peers' median at its step")
  func median() {
    let rule = MedianRule(minSteps: 2, minTrials: 5)
    #expect(rule.decide(curve(9, [0.3, 0.5, 0.65]), at: 3, peers: completedPeers, direction: .maximize) != .keepGoing)
    #expect(rule.decide(curve(9, [0.3, 0.5, 0.75]), at: 3, peers: completedPeers, direction: .maximize) == .keepGoing)
    // the best so far counts, not the last value
    #expect(rule.decide(curve(9, [0.3, 0.95, 0.6]), at: 3, peers: completedPeers, direction: .maximize) == .keepGoing)
    // warm-up: before min_steps nothing is stopped
    #expect(rule.decide(curve(9, [0.0]), at: 1, peers: completedPeers, direction: .maximize) == .keepGoing)
    // running peers do not count towards min_trials
    let running = completedPeers.map { LearningCurve(trialNumber: $0.trialNumber, values: $0.values) }
    #expect(rule.decide(curve(9, [0.3, 0.5, 0.1]), at: 3, peers: running, direction: .maximize) == .keepGoing)
  }

  @Test("median: minimizing flips the comparison")
  func medianMinimize() {
    let rule = MedianRule(minSteps: 1, minTrials: 5)
    #expect(rule.decide(curve(9, [0.9, 0.9, 0.8]), at: 3, peers: completedPeers, direction: .minimize) != .keepGoing)
    #expect(rule.decide(curve(9, [0.9, 0.9, 0.6]), at: 3, peers: completedPeers, direction: .minimize) == .keepGoing)
  }

  @Test("patience: stops after `patience` reports without an improvement of min_delta")
  func patience() {
    let rule = PatienceRule(patience: 2, minDelta: 0.01)
    let losses = [1.0, 0.9, 0.895, 0.893, 0.5]
    #expect(rule.decide(curve(0, Array(losses.prefix(3))), at: 3, peers: [], direction: .minimize) == .keepGoing)
    #expect(rule.decide(curve(0, Array(losses.prefix(4))), at: 4, peers: [], direction: .minimize) != .keepGoing)
    #expect(rule.decide(curve(0, [0.1, 0.2, 0.3, 0.4]), at: 4, peers: [], direction: .maximize) == .keepGoing)
  }

  @Test("threshold: stops once a value leaves its bounds")
  func threshold() {
    let rule = ThresholdRule(lower: nil, upper: 10, minSteps: 1)
    #expect(rule.decide(curve(0, [5, 11]), at: 2, peers: [], direction: .minimize) != .keepGoing)
    #expect(rule.decide(curve(0, [5, 9]), at: 2, peers: [], direction: .minimize) == .keepGoing)
    #expect(ThresholdRule(lower: 0.4).decide(curve(0, [0.3]), at: 1, peers: [], direction: .maximize) != .keepGoing)
  }

  @Test("ASHA: at a rung, only the top 1/η of the values recorded there go on")
  func asha() {
    let rule = SuccessiveHalvingRule(minResource: 1, reductionFactor: 3)
    let peers = [0.9, 0.8, 0.7, 0.6, 0.5].enumerated().map { curve($0.offset, [$0.element]) }
    // 6 values at rung 1: the top 2 go on, cutoff 0.8
    #expect(rule.decide(curve(9, [0.55]), at: 1, peers: peers, direction: .maximize) != .keepGoing)
    #expect(rule.decide(curve(9, [0.85]), at: 1, peers: peers, direction: .maximize) == .keepGoing)
    // the first trials to reach a rung always go on
    #expect(rule.decide(curve(9, [0.01]), at: 1, peers: [], direction: .maximize) == .keepGoing)
    // steps between rungs are not judged
    #expect(rule.decide(curve(9, [0.9, 0.0]), at: 2, peers: peers, direction: .maximize) == .keepGoing)
    // a trial that skips a rung's exact step is judged at its first report past it
    let sparse = LearningCurve(trialNumber: 9, values: [2: 0.0, 4: 0.0])
    let dense = (0..<5).map { curve($0, [0.5, 0.6, 0.7, 0.8]) }
    #expect(rule.decide(sparse, at: 4, peers: dense, direction: .maximize) != .keepGoing)
  }

  @Test("ASHA: the decision does not depend on the order peers reported in")
  func ashaIsOrderIndependent() {
    let rule = SuccessiveHalvingRule(minResource: 1, reductionFactor: 2)
    let peers = (0..<7).map { curve($0, [Double($0) / 10]) }
    let decision = rule.decide(curve(9, [0.35]), at: 1, peers: peers, direction: .maximize)
    for seed in 0..<5 {
      var generator = SplitMix64(seed: UInt64(seed))
      #expect(
        rule.decide(curve(9, [0.35]), at: 1, peers: peers.shuffled(using: &generator), direction: .maximize) == decision
      )
    }
  }

  @Test("Hyperband: trials are dealt into brackets by Hyperband's sizes and compared within their bracket")
  func hyperband() {
    let rule = HyperbandRule(minResource: 1, maxResource: 9, reductionFactor: 3)
    // s_max = 2: bracket sizes 9, 5, 3 (most aggressive first)
    #expect(rule.bracketCount == 3)
    #expect(rule.bracketSizes == [9, 5, 3])
    #expect(
      (0..<17).map(rule.bracket(ofTrial:)) == Array(repeating: 0, count: 9) + Array(repeating: 1, count: 5) + [2, 2, 2])
    // bracket 0 judges at step 1; bracket 1 first judges at step 3
    let bracket0Peers = (0..<6).map { curve($0, [0.9]) }
    #expect(rule.decide(curve(7, [0.1]), at: 1, peers: bracket0Peers, direction: .maximize) != .keepGoing)
    #expect(rule.decide(curve(10, [0.1]), at: 1, peers: bracket0Peers, direction: .maximize) == .keepGoing)
  }
}
