import SearchStrategies
import StudyModel
import Synchronization
import TrackingBridge

/// A population-based training study's members as they train (`search.algorithm: pbt`): each
/// member's latest value and the step it last started from or was ranked at. Every
/// `perturbation_interval` steps a member is ranked against the members training now (one
/// that finished has nothing left to give: a copy of its last checkpoint would end at once,
/// and its value is from a later step than theirs); one in the bottom quantile is
/// exploited: stopped, to be replaced by a copy of a top member's checkpoint with explored
/// parameters (`TrialPlanner`). Shared by the trials running in parallel.
final class PopulationSchedule: Sendable {
  let training: PopulationBasedTraining
  let metric: String
  let direction: Direction
  let seed: UInt64

  private struct Member {
    var number: Int
    var value: Double?
    var rankedAt: Int
  }

  private let members = Mutex<[Int64: Member]>([:])

  /// Why and from whom a member is replaced.
  struct Exploit: Sendable, Equatable {
    var donorId: Int64
    var donorNumber: Int
    var step: Int
    var reason: String
  }

  init(training: PopulationBasedTraining, metric: String, direction: Direction, seed: UInt64) {
    self.training = training
    self.metric = metric
    self.direction = direction
    self.seed = seed
  }

  /// A member starts training, from `step` (the checkpoint it continues) on.
  func join(trialId: Int64, number: Int, from step: Int) {
    members.withLock { $0[trialId] = Member(number: number, value: nil, rankedAt: step) }
  }

  /// Records a member's new values; when it has trained another interval since it was last
  /// ranked, ranks it, and returns the exploit when it is in the bottom quantile.
  func report(trialId: Int64, points: [MetricPoint]) -> Exploit? {
    let reported = points.filter { $0.name == metric && $0.value.isFinite }
    guard let last = reported.max(by: { $0.step < $1.step }) else { return nil }
    return members.withLock { members -> Exploit? in
      guard var member = members[trialId] else { return nil }
      member.value = last.value
      guard last.step - member.rankedAt >= training.perturbationInterval else {
        members[trialId] = member
        return nil
      }
      member.rankedAt = last.step
      members[trialId] = member
      let ranked = members.compactMap { id, member in
        member.value.map { PopulationBasedTraining.Member(id: id, value: $0) }
      }
      // The draw depends on the member and the step only: the same reports decide the same.
      var rng = SplitMix64(
        seed: seed, stream: 0x9B7, index: UInt64(member.number) << 32 | UInt64(last.step & 0xFFFF_FFFF))
      guard let donor = training.donor(for: trialId, among: ranked, direction: direction, using: &rng),
        let donorMember = members[donor]
      else { return nil }
      let size = training.quantileSize(of: ranked.count)
      return Exploit(
        donorId: donor, donorNumber: donorMember.number, step: last.step,
        reason:
          "\(metric) \(describe(last.value)) is in the bottom \(size) of the \(ranked.count) members; trial \(donorMember.number) (\(describe(donorMember.value ?? .nan))) is copied"
      )
    }
  }

  /// A member stops training (it completed, was exploited or failed): it leaves the ranking.
  func leave(trialId: Int64) {
    _ = members.withLock { $0.removeValue(forKey: trialId) }
  }
}
