import Foundation
public import SearchStrategies
public import StudyModel

/// Hyperband (Li et al. 2018) over asynchronous successive halving, as Optuna's
/// HyperbandPruner: trials are dealt into brackets; bracket `s` runs ASHA with its first rung
/// at `minResource * η^s` and compares a trial only with trials of its own bracket. Brackets
/// with early rungs stop aggressively, the last one lets every trial run to its first rung
/// late, hedging against learning curves that start slow.
///
/// A trial's bracket depends only on its number, dealt in proportion to Hyperband's bracket
/// sizes `n_s = ceil((s_max + 1) / (s + 1) * η^s)`, so decisions are deterministic.
public struct HyperbandRule: SingleMetricStoppingRule {
  public var minResource: Int
  public var maxResource: Int
  public var reductionFactor: Int

  public init(minResource: Int = 1, maxResource: Int, reductionFactor: Int = 3) {
    self.minResource = minResource
    self.maxResource = max(maxResource, minResource + 1)
    self.reductionFactor = reductionFactor
  }

  public var name: String { "hyperband" }

  /// Brackets 0 ... s_max, bracket 0 with the most aggressive (earliest) rungs.
  var bracketCount: Int {
    let ratio = Double(maxResource) / Double(minResource)
    return Int((Foundation.log(ratio) / Foundation.log(Double(reductionFactor))).rounded(.down) + 1e-9) + 1
  }

  /// Hyperband's bracket sizes, most aggressive bracket first.
  var bracketSizes: [Int] {
    let sMax = bracketCount - 1
    return (0...sMax).map { bracket in
      let s = sMax - bracket  // s counts the halvings a bracket can still do
      return Int((Double(sMax + 1) / Double(s + 1) * pow(Double(reductionFactor), Double(s))).rounded(.up))
    }
  }

  public func bracket(ofTrial number: Int) -> Int {
    let sizes = bracketSizes
    var position = number % sizes.reduce(0, +)
    for (bracket, size) in sizes.enumerated() {
      if position < size { return bracket }
      position -= size
    }
    return sizes.count - 1
  }

  public func decide(_ trial: LearningCurve, at step: Int, peers: [LearningCurve], direction: Direction)
    -> StoppingDecision
  {
    let own = bracket(ofTrial: trial.trialNumber)
    var firstRung = minResource
    for _ in 0..<own { firstRung *= reductionFactor }
    let asha = SuccessiveHalvingRule(
      minResource: firstRung, maxResource: maxResource, reductionFactor: reductionFactor)
    let sameBracket = peers.filter { bracket(ofTrial: $0.trialNumber) == own }
    switch asha.decide(trial, at: step, peers: sameBracket, direction: direction) {
    case .keepGoing: return .keepGoing
    case .stop(let reason): return .stop(reason: "bracket \(own): \(reason)")
    }
  }
}

extension EarlyStoppingRule where Self == HyperbandRule {
  public static func hyperband(minResource: Int = 1, maxResource: Int, reductionFactor: Int = 3) -> HyperbandRule {
    HyperbandRule(minResource: minResource, maxResource: maxResource, reductionFactor: reductionFactor)
  }
}
