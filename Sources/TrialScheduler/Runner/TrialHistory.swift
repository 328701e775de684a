import Foundation
import SearchStrategies
import TrackingBridge

/// The search tier's trials grouped into chains: a trial the strategy suggested, followed by
/// the re-runs of its configuration after crashes or interruptions. The strategy sees one entry
/// per chain (its latest attempt), so re-runs neither consume budget nor shift a seeded
/// strategy's sequence: a resumed study suggests what an uninterrupted one would have.
struct TrialHistory {
  struct Chain {
    var configuration: Configuration
    var attempts: [TrialRecord]
    var root: TrialRecord { attempts[0] }
    var latest: TrialRecord { attempts[attempts.count - 1] }
    /// Attempts that crashed: the process ran and exited non-zero or by a signal.
    var crashes: Int { attempts.filter(\.isCrash).count }
  }

  private(set) var chains: [Chain] = []
  private var chainIndexByTrialId: [Int64: Int] = [:]

  init(trials: [TrialRecord] = []) {
    for trial in trials.sorted(by: { $0.number < $1.number }) { record(trial) }
  }

  /// Adds a new trial (a new chain, or an attempt of its `retryOf` chain) or updates a known one.
  /// `configuration` saves decoding the trial's parameters when the caller has them.
  mutating func record(_ trial: TrialRecord, configuration known: Configuration? = nil) {
    guard let id = trial.id else { return }
    if let index = chainIndexByTrialId[id] {
      if let position = chains[index].attempts.firstIndex(where: { $0.id == id }) {
        chains[index].attempts[position] = trial
      }
    } else if let parent = trial.retryOf, let index = chainIndexByTrialId[parent] {
      chains[index].attempts.append(trial)
      chainIndexByTrialId[id] = index
    } else {
      let configuration =
        known ?? (try? JSONDecoder().decode(Configuration.self, from: Data(trial.paramsJSON.utf8))) ?? Configuration()
      chainIndexByTrialId[id] = chains.count
      chains.append(Chain(configuration: configuration, attempts: [trial]))
    }
  }

  func chainIndex(of trialId: Int64) -> Int? { chainIndexByTrialId[trialId] }

  /// Whether the chain's latest attempt calls for another run of its configuration: it was
  /// cancelled by an interruption (always re-run), or it crashed with retries left.
  static func needsRerun(_ chain: Chain, retries: Int) -> Bool {
    switch chain.latest.state {
    case .cancelled: true
    case .failed: chain.latest.isCrash && chain.crashes <= retries
    default: false
    }
  }

  /// Chains that ended failed or timed out for good (counted against `max_failed_trials`).
  func failedForGood(retries: Int) -> Int {
    chains.filter { chain in
      (chain.latest.state == .failed || chain.latest.state == .timedOut) && !Self.needsRerun(chain, retries: retries)
    }.count
  }

  /// What the strategy sees: every chain whose latest attempt finished, as an observation,
  /// and every other chain (running, queued for a re-run) as pending.
  func searchContext(space: SearchSpace, direction: Direction, retries: Int) -> SearchContext {
    var context = SearchContext(space: space, direction: direction)
    for chain in chains {
      let latest = chain.latest
      guard latest.state.isFinished, !Self.needsRerun(chain, retries: retries) else {
        context.pending.append(chain.configuration)
        continue
      }
      let state: ObservationState =
        switch latest.state {
        case .completed: .completed
        case .pruned: .pruned
        default: .failed
        }
      context.observations.append(Observation(configuration: chain.configuration, state: state, value: latest.value))
    }
    return context
  }
}

extension TrialRecord {
  /// The process ran and crashed (non-zero exit or a signal), as opposed to a trial that
  /// exited cleanly without a result or could not be started at all.
  var isCrash: Bool {
    state == .failed && (signal != nil || (exitCode ?? 0) != 0)
  }
}
