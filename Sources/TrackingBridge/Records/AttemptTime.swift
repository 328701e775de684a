public import Foundation

/// A trial's time counted across the attempts of its configuration up to it: a re-run after a
/// crash, a stop or a preemption resumes from its checkpoint, so the training took them all.
public struct AttemptTime: Sendable, Hashable {
  /// The durations of the attempts up to this one (each from its start to its end, or to now
  /// while it runs), summed.
  public var seconds: TimeInterval
  /// Which attempt this one is: 1 for a configuration's first.
  public var attempt: Int

  /// Each trial's time across its attempts, by trial id, for the trials of one study: each
  /// follows `retryOf` back through `trials` (at most as many steps as there are trials, so a
  /// cycle in a damaged store ends). A trial that never started has none.
  public static func of(_ trials: [TrialRecord]) -> [Int64: AttemptTime] {
    let byId = Dictionary(trials.compactMap { trial in trial.id.map { ($0, trial) } }) { first, _ in first }
    var times: [Int64: AttemptTime] = [:]
    for trial in trials {
      guard let id = trial.id, trial.duration != nil else { continue }
      times[id] = of(chain: chain(endingWith: trial, byId: byId))
    }
    return times
  }

  /// The time of the last of `attempts` (its configuration's attempts, first first).
  public static func of(chain attempts: [TrialRecord]) -> AttemptTime {
    AttemptTime(seconds: attempts.compactMap(\.duration).reduce(0, +), attempt: attempts.count)
  }

  static func chain(endingWith trial: TrialRecord, byId: [Int64: TrialRecord]) -> [TrialRecord] {
    var chain = [trial]
    while let previous = chain.last?.retryOf, chain.count <= byId.count, let record = byId[previous] {
      chain.append(record)
    }
    return chain.reversed()
  }
}
