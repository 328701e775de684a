import Foundation
import SearchStrategies
import Significance
import StudyModel

/// `promotion: {significance: α}`: a top candidate is trained in full only when its repeats
/// show it better than each other candidate (and than the registered model's quick test, when
/// there is one) with Welch's p below α. Every verdict carries its reason, worded by the test.
struct PromotionEvidence {
  let significance: Double
  let direction: Direction

  /// A configuration's quick-test values over its repeats.
  struct Contender {
    var id: Int64
    /// "config-007".
    var label: String
    var values: [Double]
  }

  struct Verdict: Equatable {
    var id: Int64
    var promote: Bool
    var reason: String
  }

  /// - Parameters:
  ///   - top: the `top_k` best candidates by their mean, best first.
  ///   - rest: the other candidates.
  ///   - baseline: the quick test of the model registered now, if its values are known.
  func judge(top: [Contender], rest: [Contender], baseline: Contender?) -> [Verdict] {
    top.map { candidate in
      let rivals = rest + (baseline.map { [$0] } ?? [])
      guard candidate.values.count >= 2 else {
        return Verdict(
          id: candidate.id, promote: false,
          reason:
            "not promoted: \(candidate.label) has \(candidate.values.count) completed repeat(s), and two are needed to test it: look at why its repeats failed, or run more repeats"
        )
      }
      guard !rivals.isEmpty else {
        return Verdict(
          id: candidate.id, promote: true,
          reason: "promoted: \(candidate.label) has no other candidate to weigh against")
      }
      var wins: [String] = []
      for rival in rivals {
        guard
          let improvement = Improvement(
            candidate.values, over: rival.values, higherIsBetter: direction == .maximize)
        else {
          wins.append("\(rival.label) (\(rival.values.count) value(s), not testable)")
          continue
        }
        guard improvement.isSignificant(at: significance) else {
          let relation = improvement.amount > 0 ? "ahead of" : "behind"
          return Verdict(
            id: candidate.id, promote: false,
            reason:
              "not promoted: \(candidate.label) is \(relation) \(rival.label) by \(improvement.phrase), within noise at "
              + "significance \(significance): run more repeats")
        }
        wins.append("\(rival.label) by \(improvement.phrase)")
      }
      return Verdict(
        id: candidate.id, promote: true, reason: "promoted: \(candidate.label) beats " + wins.joined(separator: "; "))
    }
  }
}
