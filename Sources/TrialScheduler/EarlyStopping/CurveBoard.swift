import SearchStrategies
import StudyModel
import Synchronization
import TrackingBridge

/// The learning curves of a tier's trials for the metric an early-stopping rule watches,
/// shared by the trials running in parallel. Each trial's decision reads a snapshot of its
/// peers taken under the lock, so decisions see a consistent board.
final class CurveBoard: Sendable {
  private let curves = Mutex<[Int64: LearningCurve]>([:])

  /// Seeds the board from the store (a resumed study keeps its peers' curves). A trial's
  /// re-runs (`retryOf`: after a crash, an interruption, a pause) continue its curve: the board
  /// holds one curve per chain, under its first attempt's id, numbered by the chain's place
  /// among the tier's chains.
  init(trials: [TrialRecord], metric: String, database: AppDatabase) throws {
    let roots = Self.roots(of: trials)
    // A configuration's place among the tier's, as `CheckpointFolder.ordinal` counts it.
    let firsts = trials.filter { $0.retryOf == nil }.sorted { $0.number < $1.number }
    let ordinals = Dictionary(
      firsts.enumerated().map { ($0.element.id!, $0.offset) }, uniquingKeysWith: { first, _ in first })
    var initial: [Int64: LearningCurve] = [:]
    for trial in trials.sorted(by: { $0.number < $1.number }) {
      let root = roots[trial.id!] ?? trial
      let points = try database.metrics(trialId: trial.id!, name: metric)
      var curve = initial[root.id!] ?? LearningCurve(trialNumber: ordinals[root.id!] ?? root.number)
      for point in points { curve.values[point.step] = point.value }
      curve.isComplete = trial.state == .completed  // the latest attempt's, as numbers grow
      initial[root.id!] = curve
    }
    curves.withLock { $0 = initial }
  }

  /// Each trial's first attempt, following `retryOf` (each step moves to an earlier trial, so
  /// the walk ends; a link outside `trials` ends it too).
  static func roots(of trials: [TrialRecord]) -> [Int64: TrialRecord] {
    let byId = Dictionary(trials.compactMap { trial in trial.id.map { ($0, trial) } }, uniquingKeysWith: { a, _ in a })
    var roots: [Int64: TrialRecord] = [:]
    for trial in trials.sorted(by: { $0.number < $1.number }) {
      guard let id = trial.id else { continue }
      if let parent = trial.retryOf, let earlier = byId[parent], earlier.number < trial.number {
        roots[id] = roots[parent] ?? earlier
      } else {
        roots[id] = trial
      }
    }
    return roots
  }

  /// Every curve on the board, by chain.
  var snapshot: [Int64: LearningCurve] { curves.withLock { $0 } }

  /// Records new values of a trial; returns its curve and every other curve.
  func report(trialId: Int64, number: Int, values: [(step: Int, value: Double)]) -> (LearningCurve, [LearningCurve]) {
    curves.withLock { curves in
      var curve = curves[trialId] ?? LearningCurve(trialNumber: number)
      for (step, value) in values { curve.values[step] = value }
      curves[trialId] = curve
      return (curve, curves.filter { $0.key != trialId }.map(\.value))
    }
  }

  func finish(trialId: Int64, completed: Bool) {
    curves.withLock { $0[trialId]?.isComplete = completed }
  }
}

/// An early-stopping rule with the boards it judges against: one per watched metric (one
/// per objective for multi-objective ASHA), in the rule's order.
struct EarlyStopper: Sendable {
  let rule: any EarlyStoppingRule
  let metrics: [String]
  let directions: [Direction]
  let boards: [CurveBoard]
  /// `early_stopping.pause`: a cut at a rung pauses the trial (`RungPromotion` resumes it).
  var pausesAtRungs = false

  /// The first watched metric's board and direction (the only ones of a single-metric rule).
  var board: CurveBoard { boards[0] }
  var direction: Direction { directions[0] }

  /// Records the reported values and asks the rule about each new step, in order; the first
  /// stop wins. A step is judged once the trial has reported it for every watched metric.
  func judge(trialId: Int64, number: Int, points: [MetricPoint]) -> (step: Int, reason: String)? {
    let reported = metrics.map { metric in
      points.filter { $0.name == metric && $0.value.isFinite }.map { (step: $0.step, value: $0.value) }
    }
    let steps = Set(reported.flatMap { $0.map(\.step) })
    guard !steps.isEmpty else { return nil }
    var curves: [LearningCurve] = []
    var peersByTrial: [Int: [LearningCurve]] = [:]
    for (values, board) in zip(reported, boards) {
      let (curve, peers) = board.report(trialId: trialId, number: number, values: values)
      curves.append(curve)
      for peer in peers { peersByTrial[peer.trialNumber, default: []].append(peer) }
    }
    // Peers by their number, so every rule sees them in the same order whatever the boards' order.
    let peers = peersByTrial.sorted { $0.key < $1.key }.map(\.value).filter { $0.count == metrics.count }
    for step in steps.sorted() {
      if case .stop(let reason) = rule.decide(curves, at: step, peers: peers, directions: directions) {
        return (step, reason)
      }
    }
    return nil
  }

  /// Why the trial is stopped at `step`: pruned, or paused when the rule pauses.
  func cause(step: Int, reason: String) -> StopCause {
    pausesAtRungs
      ? .paused(rule: rule.name, step: step, reason: reason) : .pruned(rule: rule.name, step: step, reason: reason)
  }

  func finish(trialId: Int64, completed: Bool) {
    for board in boards { board.finish(trialId: trialId, completed: completed) }
  }
}
