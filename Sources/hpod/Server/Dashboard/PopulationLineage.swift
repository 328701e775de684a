import Foundation
import SearchStrategies
import TrackingBridge

/// Population-based training's lineage, read from the tags the runner leaves
/// (`hpod.pbt.parent`, `hpod.pbt.donor`, `hpod.pbt.explore`, `hpod.prune_step`): every copy
/// made — which member was replaced at which step, whose checkpoint its replacement continues,
/// how far that history goes and which parameters changed — in a handful of queries.
struct PopulationLineage: Sendable {
  struct Copy: Sendable {
    /// The member replaced, and the step it was stopped at (its `hpod.prune_step`).
    var replaced: TrialRecord?
    var step: Int?
    /// The trial whose checkpoint the replacement continues.
    var donor: TrialRecord?
    var child: TrialRecord
    /// What changed, as the runner wrote it (`lr 0.01 → 0.012 (×1.2)`; "unchanged").
    var explore: String
    /// The last step of the history copied from the donor with its checkpoint: the step the
    /// replacement starts after (nil while it has reported nothing).
    var copiedUpTo: Int?
  }

  /// By the step of the copy, then the replacement's number.
  let copies: [Copy]
  /// Each slot of the population: its first member, then the replacements that took its
  /// place, in order.
  let slots: [[TrialRecord]]

  var isEmpty: Bool { copies.isEmpty }

  func copy(creating child: TrialRecord) -> Copy? { copies.first { $0.child.id == child.id } }
  func copy(replacing member: TrialRecord) -> Copy? { copies.first { $0.replaced?.id == member.id } }

  static func read(_ snapshot: StudySnapshot, database: AppDatabase) throws -> PopulationLineage {
    let id = snapshot.id
    let parents = try database.tagValues(studyId: id, key: HpodTag.pbtParent)
    guard !parents.isEmpty else {
      return PopulationLineage(copies: [], slots: snapshot.trials.filter { $0.tier == .quickTest }.map { [$0] })
    }
    let donors = try database.tagValues(studyId: id, key: HpodTag.pbtDonor)
    let explored = try database.tagValues(studyId: id, key: HpodTag.pbtExplore)
    let pruneSteps = try database.tagValues(studyId: id, key: HpodTag.pruneStep)
    let histories = try database.metrics(trialIds: Array(parents.keys), names: [snapshot.objective])
    let member = { (text: String?) in text.flatMap { Int($0) }.flatMap { snapshot.trial(number: $0) } }
    var copies: [Copy] = []
    for (childId, parent) in parents {
      guard let child = snapshot.trial(id: childId) else { continue }
      let replaced = member(parent)
      copies.append(
        Copy(
          replaced: replaced, step: replaced.flatMap { pruneSteps[$0.id!] }.flatMap { Int($0) },
          donor: member(donors[childId]), child: child, explore: explored[childId] ?? "–",
          copiedUpTo: Self.copiedStep(of: child, history: histories[childId] ?? [])))
    }
    copies.sort { ($0.step ?? 0, $0.child.number) < ($1.step ?? 0, $1.child.number) }
    // A slot's members follow one another by `parent`: its first member has none.
    let nextOf = Dictionary(
      copies.compactMap { copy in copy.replaced.map { ($0.id!, copy.child) } }, uniquingKeysWith: { first, _ in first })
    var slots: [[TrialRecord]] = []
    for first in snapshot.trials where first.tier == .quickTest && parents[first.id!] == nil && first.retryOf == nil {
      var slot = [first]
      // (each trial is in one slot; the bound keeps a damaged store from looping)
      while let next = nextOf[slot.last!.id!], slot.count <= copies.count { slot.append(next) }
      slots.append(slot)
    }
    return PopulationLineage(copies: copies, slots: slots)
  }

  /// The history copied with the checkpoint is the donor's points, stamped before the
  /// replacement started; the replacement's own come after.
  static func copiedStep(of child: TrialRecord, history: [MetricPoint]) -> Int? {
    guard let started = child.startedAt else { return nil }
    let startedMs = Int64(started.timeIntervalSince1970 * 1000)
    return history.filter { $0.timestamp < startedMs }.map(\.step).max()
  }

  /// The trials whose checkpoints `trial` continues, from the donor it copied back to a first
  /// member: the schedule of parameters its weights were trained with.
  func ancestry(of trial: TrialRecord) -> [Copy] {
    var chain: [Copy] = []
    var current = trial
    while let copy = copy(creating: current), chain.count <= copies.count {
      chain.append(copy)
      guard let donor = copy.donor else { break }
      current = donor
    }
    return chain
  }
}
