import SearchStrategies
import Synchronization
import TrackingBridge

/// The learning curves of a tier's trials for the metric an early-stopping rule watches,
/// shared by the trials running in parallel. Each trial's decision reads a snapshot of its
/// peers taken under the lock, so decisions see a consistent board.
final class CurveBoard: Sendable {
  private let curves = Mutex<[Int64: LearningCurve]>([:])

  /// Seeds the board from the store (a resumed study keeps its peers' curves).
  init(trials: [TrialRecord], metric: String, database: AppDatabase) throws {
    var initial: [Int64: LearningCurve] = [:]
    for trial in trials {
      let points = try database.metrics(trialId: trial.id!, name: metric)
      initial[trial.id!] = LearningCurve(
        trialNumber: trial.number, isComplete: trial.state == .completed,
        values: Dictionary(points.map { ($0.step, $0.value) }, uniquingKeysWith: { _, last in last }))
    }
    curves.withLock { $0 = initial }
  }

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

/// An early-stopping rule with the board it judges against; with several objectives, the
/// Pareto rule with one board per objective.
struct EarlyStopper: Sendable {
  let rule: any EarlyStoppingRule
  let metric: String
  let direction: Direction
  let board: CurveBoard
  /// Several objectives: the rule that ranks trials by all of them, and their boards.
  var pareto: (rule: ParetoSuccessiveHalvingRule, metrics: [String], boards: [CurveBoard])?

  /// Records the reported values and asks the rule about each new step, in order; the first
  /// stop wins.
  func judge(trialId: Int64, number: Int, points: [MetricPoint]) -> (step: Int, reason: String)? {
    if let pareto { return judgeAll(pareto, trialId: trialId, number: number, points: points) }
    let reported = points.filter { $0.name == metric && $0.value.isFinite }.map { (step: $0.step, value: $0.value) }
    guard !reported.isEmpty else { return nil }
    let (curve, peers) = board.report(trialId: trialId, number: number, values: reported)
    for step in Set(reported.map(\.step)).sorted() {
      if case .stop(let reason) = rule.decide(curve, at: step, peers: peers, direction: direction) {
        return (step, reason)
      }
    }
    return nil
  }

  private func judgeAll(
    _ pareto: (rule: ParetoSuccessiveHalvingRule, metrics: [String], boards: [CurveBoard]), trialId: Int64,
    number: Int, points: [MetricPoint]
  ) -> (step: Int, reason: String)? {
    var curves: [LearningCurve] = []
    var peersByTrial: [Int: [LearningCurve]] = [:]
    var steps = Set<Int>()
    for (metric, board) in zip(pareto.metrics, pareto.boards) {
      let reported = points.filter { $0.name == metric && $0.value.isFinite }.map { (step: $0.step, value: $0.value) }
      steps.formUnion(reported.map(\.step))
      let (curve, peers) = board.report(trialId: trialId, number: number, values: reported)
      curves.append(curve)
      for peer in peers { peersByTrial[peer.trialNumber, default: []].append(peer) }
    }
    let peers = peersByTrial.values.filter { $0.count == pareto.metrics.count }
    for step in steps.sorted() {
      if case .stop(let reason) = pareto.rule.decide(curves, at: step, peers: Array(peers)) { return (step, reason) }
    }
    return nil
  }

  func finish(trialId: Int64, completed: Bool) {
    board.finish(trialId: trialId, completed: completed)
    for board in pareto?.boards ?? [] { board.finish(trialId: trialId, completed: completed) }
  }
}
