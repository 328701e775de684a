import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

/// The search tier's trials grouped into chains: a trial the strategy suggested, followed by
/// the re-runs of its configuration after crashes or interruptions. The strategy sees one entry
/// per chain (its latest attempt), so re-runs neither consume budget nor shift a seeded
/// strategy's sequence: a resumed study suggests what an uninterrupted one would have.
///
/// Chains that repeat one configuration (over seeds or folds) form a configuration: the
/// strategy sees it once, valued by the mean of its completed repeats, with each repeat's
/// value as a noisy sample of that point.
struct TrialHistory {
  struct Chain {
    var configuration: Configuration
    var attempts: [TrialRecord]
    var root: TrialRecord { attempts[0] }
    var latest: TrialRecord { attempts[attempts.count - 1] }
    /// Attempts that crashed: the process ran and exited non-zero or by a signal.
    var crashes: Int { attempts.filter(\.isCrash).count }
  }

  /// One configuration: the chains of its repeats, in repeat order.
  struct ConfigurationGroup {
    var id: Int64
    var chainIndices: [Int]
  }

  /// A configuration's objectives as losses, how far it breaks the constraints, and each
  /// constraint's signed value (≤ 0 holds).
  struct Outcome {
    var losses: [Double]
    var violation: Double
    var constraints: [Double] = []
  }

  private(set) var chains: [Chain] = []
  private var chainIndexByTrialId: [Int64: Int] = [:]
  /// Configurations in the order their first trial was created.
  private(set) var configurations: [ConfigurationGroup] = []
  private var configurationIndexById: [Int64: Int] = [:]

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
      if let first = trial.repeatOf, let index = configurationIndexById[first] {
        configurations[index].chainIndices.append(chains.count)
      } else {
        configurationIndexById[id] = configurations.count
        configurations.append(ConfigurationGroup(id: id, chainIndices: [chains.count]))
      }
      chains.append(Chain(configuration: configuration, attempts: [trial]))
    }
  }

  /// The chains of a configuration.
  func chains(of configuration: ConfigurationGroup) -> [Chain] { configuration.chainIndices.map { chains[$0] } }

  func configuration(id: Int64) -> ConfigurationGroup? { configurationIndexById[id].map { configurations[$0] } }

  /// The configuration a trial belongs to.
  /// The attempts of the configuration and tier the trial is one of.
  func chain(containing trialId: Int64) -> Chain? {
    chainIndexByTrialId[trialId].map { chains[$0] }
  }

  func configuration(containing trialId: Int64) -> ConfigurationGroup? {
    guard let chain = chainIndexByTrialId[trialId] else { return nil }
    return configurations.first { $0.chainIndices.contains(chain) }
  }

  /// The completed values of a configuration's repeats, in repeat order; with `below`, only
  /// those of the repeats whose index is below it.
  func values(of configuration: ConfigurationGroup, repeatsBelow below: Int = .max) -> [Double] {
    chains(of: configuration).filter { $0.root.repeatIndex < below }.compactMap { chain in
      guard chain.latest.state == .completed, let value = chain.latest.value, value.isFinite else { return nil }
      return value
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

  /// What the strategy sees, one entry per configuration: once a repeat of it finished for
  /// good, an observation (valued by the mean of its completed repeats, each repeat's value a
  /// sample); until then it is pending (running, or queued for a re-run).
  ///
  /// With `outcome` (a study of several objectives or with constraints), a completed
  /// configuration also carries its objectives' losses and constraint violation, from its
  /// completed repeats; one `outcome` cannot value (an objective never reported) is failed.
  func searchContext(
    space: SearchSpace, direction: Direction, retries: Int, outcome: ((_ completed: [TrialRecord]) -> Outcome?)? = nil
  ) -> SearchContext {
    var context = SearchContext(space: space, direction: direction)
    for configuration in configurations {
      let members = chains(of: configuration)
      let finished = members.filter { $0.latest.state.isFinished && !Self.needsRerun($0, retries: retries) }
      guard let first = finished.first else {
        context.pending.append(members[0].configuration)
        continue
      }
      let values = values(of: configuration)
      var observation: Observation
      if !values.isEmpty {
        observation = Observation(
          configuration: first.configuration, state: .completed, value: values.reduce(0, +) / Double(values.count))
        if values.count > 1 { observation.samples = values }
        if let outcome {
          let completed = members.map(\.latest).filter { $0.state == .completed }
          if let valued = outcome(completed) {
            observation.losses = valued.losses
            observation.violation = valued.violation
            observation.constraints = valued.constraints
          } else {
            observation.state = .failed
          }
        }
      } else if let pruned = finished.first(where: { $0.latest.state == .pruned }) {
        observation = Observation(configuration: first.configuration, state: .pruned, value: pruned.latest.value)
      } else {
        observation = Observation(configuration: first.configuration, state: .failed, value: first.latest.value)
      }
      context.observations.append(observation)
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
