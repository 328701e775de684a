import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("The Pareto front's order for promotion: hypervolume share, knee, best with conditions")
struct ParetoFrontTests {
  /// Three members of (accuracy: maximize, latency: minimize): A 0.9/3, B 0.8/2, C 0.7/1.
  /// Scaled to [0, 1] as losses they sit at A (0, 1), B (0.5, 0.5), C (1, 0).
  var front: ParetoFront {
    let members = [(0.9, 3.0), (0.8, 2.0), (0.7, 1.0)].enumerated().map { index, point in
      ParetoFront.Member(
        trial: TrialRecord(studyId: 1, number: index, tier: .quickTest, paramsJSON: "{}"),
        metrics: ["accuracy": point.0, "latency": point.1])
    }
    return ParetoFront(
      objectives: [.init(metric: "accuracy", direction: .maximize), .init(metric: "latency", direction: .minimize)],
      constraints: [], members: members, infeasible: 0, tier: .quickTest)
  }

  @Test("hypervolume: B's share is largest (0.25 of 0.46 to the reference 1.1; A's and C's 0.05 each)")
  func byHypervolume() {
    let order = front.ordered(by: .hypervolume).map(\.trial.number)
    #expect(order.first == 1)
    #expect(Set(order.dropFirst()) == [0, 2])
  }

  @Test("knee: B is nearest the ideal point (0.71 against 1 for A and C)")
  func byKnee() {
    #expect(front.ordered(by: .knee).map(\.trial.number) == [1, 0, 2])
  }

  @Test("best with conditions: the most accurate of those fast enough")
  func byPreference() {
    let where2 = StudySpec.Threshold(metric: "latency", comparison: .lessOrEqual, value: 2)
    #expect(front.ordered(by: .best(metric: "accuracy", where: [where2])).map(\.trial.number) == [1, 2])
    #expect(front.ordered(by: .best(metric: "latency", where: [])).map(\.trial.number) == [2, 1, 0])
  }
}
