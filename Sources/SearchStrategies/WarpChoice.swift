// Reuse of the warped-or-plain decision on long histories.
//
// Deciding whether the warped or the plain GP explains the losses better (see
// `BayesianOptimization.model`) takes two hyperparameter fits. Beyond a few hundred
// observations one more observation rarely changes the verdict, while each fit costs O(n³)
// (n = 300: about 10 ms of a 20–25 ms suggestion). So a decision made on a history of c
// observations is reused, and only the chosen GP fitted, for the histories that extend it
// with fewer than `growth · c` further observations; then both are fitted and compared again.
//
// Notation:
//
//   c       the history length a decision was made on (both GPs fitted and compared).
//   n       the current history length.
//   reuse   c ≥ `from` and the first c observations of the history are the decided history
//           (same inputs and raw losses, checked by prefix fingerprint, as `FitCache` keys)
//           and c ≤ n < c · (1 + `growth`). Defaults: from 200, growth 0.05 (re-decided every
//           10 observations at n = 200, every 15 at 300, every 50 at 1,000).
//
// The losing GP's fit is not refreshed while a decision is reused. At the next decision it
// continues from its fit at c (kept here, so that a busy `FitCache` cannot have
// evicted it) with the L-BFGS iterations it missed, up to `catchUp` (3) suggestions' worth, so
// the comparison is not biased towards the incumbent choice by a stale fit. From a nearby
// optimum a few iterations mostly suffice: Branin's decisions at 200–300 observations come out
// the same with 3 and with 10 (10 made a re-deciding suggestion cost 0.1–0.3 s at n = 300).
//
// The decisions live in the strategy instance (copies of a strategy share them): a study run
// by one instance reuses them, a new instance (a restarted process, or a caller that makes a
// strategy per suggestion) decides afresh. Like `FitCache`, this makes long-history
// suggestions depend on the instance's earlier calls, not on the history alone.

import Synchronization

/// The warped-or-plain decisions of one strategy instance (see the header).
final class WarpChoices: Sendable {
  /// When a decision is reused.
  struct Policy: Sendable, Hashable {
    /// Decisions made on fewer observations are never reused.
    var from = 200
    /// A decision made on c observations serves histories shorter than c · (1 + growth).
    var growth = 0.05
    /// At the next decision, the losing GP's fit runs the warm iterations of at most this many
    /// of the suggestions that skipped it.
    var catchUp = 3

    /// Never reuse: both GPs are fitted and compared at every suggestion.
    static let never = Policy(from: .max, growth: 0, catchUp: 1)

    /// Whether a decision on `decided` observations serves a history of `count` that extends it.
    func reuses(decidedAt decided: Int, count: Int) -> Bool {
      decided >= from && count >= decided && Double(count) < Double(decided) * (1 + growth)
    }
  }

  /// One decision: the history it was made on, the winner, and the loser's fit at that time.
  struct Decision: Sendable {
    /// c, the history length.
    var count: Int
    /// `FitCache.prefixFingerprints` of the plain training data, at `count`.
    var fingerprint: UInt64
    var warped: Bool
    /// The losing GP's fit on the decided history, the warm start of its next fit.
    var loser: FitCache.Entry
  }

  private let decisions = Mutex<[Decision]>([])
  /// A strategy instance usually serves one study; a few more keep alternating callers cheap.
  private let capacity = 4

  /// The latest decision whose history is a prefix of the one `prefixes` fingerprints
  /// (`prefixes[i]` covers the first i observations).
  func decision(extending prefixes: [UInt64]) -> Decision? {
    decisions.withLock { decisions in
      decisions.filter { $0.count < prefixes.count && prefixes[$0.count] == $0.fingerprint }.max {
        $0.count < $1.count
      }
    }
  }

  func record(_ decision: Decision) {
    decisions.withLock { decisions in
      decisions.removeAll { $0.count == decision.count && $0.fingerprint == decision.fingerprint }
      decisions.append(decision)
      if decisions.count > capacity { decisions.removeFirst(decisions.count - capacity) }
    }
  }

  /// All decisions kept, oldest first (for tests).
  var recorded: [Decision] { decisions.withLock { $0 } }
}
