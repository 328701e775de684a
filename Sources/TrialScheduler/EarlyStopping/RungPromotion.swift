import SearchStrategies
import StudyModel

/// Which paused trial successive halving resumes next (`early_stopping.pause`), as the
/// asynchronous successive halving of Li et al. (2020) promotes: a trial cut at a rung waits
/// there, and once later arrivals at that rung put it in the top `1/η` it is promoted, from
/// the highest rung down, before any new configuration starts. The rule decides, so a paused
/// trial is promoted exactly when the same report, judged against today's board, would have
/// gone on; a trial the rung never promotes stays pruned.
struct RungPromotion: Sendable {
  let rule: any EarlyStoppingRule
  let direction: Direction
  let board: CurveBoard

  /// The chain (its first attempt's id) to resume among `paused` (chain → the step it was
  /// paused at), or nil when none of them is promotable now.
  func next(among paused: [Int64: Int]) -> Int64? {
    guard !paused.isEmpty else { return nil }
    let curves = board.snapshot
    var best: (chain: Int64, step: Int, value: Double)?
    for (chain, step) in paused {
      guard var curve = curves[chain], let value = curve.values[step] else { continue }
      curve.values = curve.values.filter { $0.key <= step }
      let peers = curves.filter { $0.key != chain }.map(\.value)
      guard case .keepGoing = rule.decide([curve], at: step, peers: peers.map { [$0] }, directions: [direction])
      else { continue }
      let candidate = (chain: chain, step: step, value: value)
      if let current = best, !isAhead(candidate, of: current) { continue }
      best = candidate
    }
    return best?.chain
  }

  /// The higher rung first, then the better value there, then the older trial.
  private func isAhead(
    _ a: (chain: Int64, step: Int, value: Double), of b: (chain: Int64, step: Int, value: Double)
  ) -> Bool {
    if a.step != b.step { return a.step > b.step }
    if a.value != b.value { return direction.isBetter(a.value, than: b.value) }
    return a.chain < b.chain
  }
}
