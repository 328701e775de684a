import Dispatch
import Foundation
import SearchStrategies
import Significance
import StudyAnalysis
import StudyModel
import Synchronization
import TrackingBridge
import TrialScheduler

/// Everything the dashboard shows of one study, read in a handful of queries (never one per
/// trial) and kept until one of the study's trials changes.
struct StudySnapshot: Sendable {
  let study: StudyRecord
  let spec: StudySpec?
  let direction: Direction
  /// In number order.
  let trials: [TrialRecord]
  let configurations: [Int64: Configuration]
  /// The last value of each metric per trial id.
  let finalMetrics: [Int64: [String: Double]]
  let parameterNames: [String]
  /// The objective first, then the others by name.
  let metricNames: [String]
  let modelVersions: [ModelVersion]
  /// The version the study's alias points at (or its latest), with the alias.
  let currentModel: (version: ModelVersion, alias: String?)?
  let registeredTrialIds: Set<Int64>
  /// Quick test id → its full training.
  let fullTrainingOf: [Int64: TrialRecord]
  let pendingPromotions: Set<Int64>
  /// The value over its repeats of each configuration that has repeats, by configuration id.
  let repeatSummaries: [Int64: SampleSummary]
  /// The other study's trials the search started from (`search.warm_start`), or why they
  /// cannot be read now.
  var warmStart: Result<WarmStartHistory, WarmStartUnreadable>?
  /// The trials paused by hand and not resumed yet (`hpod.paused_by_user: held`).
  var heldTrialIds: Set<Int64> = []
  private let indexByNumber: [Int: Int]
  private let indexById: [Int64: Int]
  /// Analyses of this snapshot, computed once each.
  let memo = Memo()

  var objective: String { study.objectiveMetric }

  /// Each metric the spec acts on that no trial reported, once three trials completed (as the
  /// runner's `study_warning` and the summary say it).
  var unreportedMetricWarnings: [String] {
    guard let spec, trials.filter({ $0.state == .completed }).count >= 3 else { return [] }
    return spec.unreportedMetrics(reported: Set(finalMetrics.values.flatMap(\.keys)))
  }
  var id: Int64 { study.id! }

  func trial(number: Int) -> TrialRecord? { indexByNumber[number].map { trials[$0] } }
  func trial(id: Int64) -> TrialRecord? { indexById[id].map { trials[$0] } }

  static func load(_ study: StudyRecord, spec: StudySpec?, database: AppDatabase) throws -> StudySnapshot {
    let id = study.id!
    // The two largest reads, side by side (the store's pool reads in parallel).
    let reads = Mutex<
      (trials: Result<[TrialRecord], any Error>?, metrics: Result<[Int64: [String: Double]], any Error>?)
    >(
      (nil, nil))
    DispatchQueue.concurrentPerform(iterations: 2) { index in
      if index == 0 {
        let trials = Result { try database.trialsByNumber(studyId: id) }
        reads.withLock { $0.trials = trials }
      } else {
        let metrics = Result { try database.finalMetricValues(studyId: id) }
        reads.withLock { $0.metrics = metrics }
      }
    }
    let (trialsRead, metricsRead) = reads.withLock { ($0.trials!, $0.metrics!) }
    let trials = try trialsRead.get()
    let finalMetrics = try metricsRead.get()
    let versions = try database.modelVersions(studyId: id)
    let pending = try database.pendingPromotionRequests(studyId: id)
    var current: (ModelVersion, String?)?
    if let registration = spec?.registration, let alias = registration.alias,
      let target = try database.modelAliases(named: registration.model).first(where: { $0.alias == alias }),
      let version = try database.modelVersions(named: registration.model).first(where: { $0.version == target.version })
    {
      current = (version, alias)
    } else if let latest = versions.last {
      current = (latest, nil)
    }
    var snapshot = StudySnapshot(
      study: study, spec: spec, trials: trials, finalMetrics: finalMetrics, modelVersions: versions,
      currentModel: current, pendingPromotions: pending)
    snapshot.heldTrialIds = Set(
      try database.tagValues(studyId: id, key: HpodTag.pausedByUser).filter { $0.value == HpodTag.held }.keys)
    return snapshot
  }

  init(
    study: StudyRecord, spec: StudySpec?, trials: [TrialRecord], finalMetrics: [Int64: [String: Double]],
    modelVersions: [ModelVersion], currentModel: (version: ModelVersion, alias: String?)?, pendingPromotions: Set<Int64>
  ) {
    self.study = study
    self.spec = spec
    self.direction = study.direction
    self.trials = trials
    let decoded = Self.decode(trials)
    var configurations: [Int64: Configuration] = [:]
    configurations.reserveCapacity(trials.count)
    var names = Set<String>()
    var fullTrainingOf: [Int64: TrialRecord] = [:]
    var indexByNumber: [Int: Int] = [:]
    var indexById: [Int64: Int] = [:]
    for (index, trial) in trials.enumerated() {
      let configuration = decoded[index]
      configurations[trial.id!] = configuration
      names.formUnion(configuration.names)
      if let source = trial.sourceTrialId, fullTrainingOf[source] == nil { fullTrainingOf[source] = trial }
      indexByNumber[trial.number] = index
      indexById[trial.id!] = index
    }
    self.configurations = configurations
    let declared = spec?.space.parameters.map(\.name) ?? []
    self.parameterNames = declared.filter(names.contains) + names.subtracting(declared).sorted()
    self.finalMetrics = finalMetrics
    var metrics = Set(finalMetrics.values.flatMap(\.keys))
    metrics.remove(study.objectiveMetric)
    self.metricNames = [study.objectiveMetric] + metrics.sorted()
    self.modelVersions = modelVersions
    self.currentModel = currentModel
    self.registeredTrialIds = Set(modelVersions.map(\.trialId))
    self.fullTrainingOf = fullTrainingOf
    self.pendingPromotions = pendingPromotions
    self.indexByNumber = indexByNumber
    self.indexById = indexById
    let repeated = Set(trials.filter { $0.repeatIndex > 0 }.compactMap(\.repeatOf))
    self.repeatSummaries =
      repeated.isEmpty ? [:] : RepeatGroups.summaries(trials).filter { repeated.contains($0.key) }
  }

  /// The value over repeats of a trial's configuration, when it has repeats.
  func repeatSummary(of trial: TrialRecord) -> SampleSummary? {
    trial.configurationId.flatMap { repeatSummaries[$0] }
  }

  /// A trial's value as the study ranks it: its configuration's mean over repeats, else its own.
  func rankedValue(_ trial: TrialRecord) -> Double? { repeatSummary(of: trial)?.mean ?? trial.value }

  /// The trials' configurations, decoded on every core for large studies.
  static func decode(_ trials: [TrialRecord]) -> [Configuration] {
    let chunks = trials.count < 2000 ? 1 : ProcessInfo.processInfo.activeProcessorCount
    let size = (trials.count + chunks - 1) / max(chunks, 1)
    let parts = Mutex<[Int: [Configuration]]>([:])
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      let decoder = JSONDecoder()
      let slice = trials[min(chunk * size, trials.count)..<min((chunk + 1) * size, trials.count)]
      let decoded = slice.map {
        ConfigurationText.parse($0.paramsJSON)
          ?? (try? decoder.decode(Configuration.self, from: Data($0.paramsJSON.utf8))) ?? Configuration()
      }
      parts.withLock { $0[chunk] = decoded }
    }
    return parts.withLock { parts in (0..<chunks).flatMap { parts[$0] ?? [] } }
  }

  /// The best completed trial of a tier (nil: any tier, full trainings first).
  func best(tier: Tier? = nil) -> TrialRecord? {
    let tiers: [Tier] = tier.map { [$0] } ?? [.fullTraining, .quickTest]
    for tier in tiers {
      let candidates = trials.filter {
        $0.tier == tier && $0.state == .completed && $0.value?.isFinite == true && isFeasible($0)
      }
      if let best = candidates.min(by: { a, b in
        let (x, y) = (rankedValue(a)!, rankedValue(b)!)
        return x == y ? a.number < b.number : direction.isBetter(x, than: y)
      }) {
        return best
      }
    }
    return nil
  }

  /// Whether a trial meets the study's constraints (always, without constraints).
  func isFeasible(_ trial: TrialRecord) -> Bool {
    guard let spec, !spec.constraints.isEmpty else { return true }
    return trial.id.flatMap { finalMetrics[$0] }.map { spec.violation(of: $0) == 0 } ?? false
  }

  /// Configurations the search has finished with: quick tests (a configuration's repeats,
  /// a crashed one and its re-runs count once) none of whose attempts is still pending or running.
  var finishedSearchTrials: Int {
    var roots = Set<Int64>()
    var open = Set<Int64>()
    for trial in trials where trial.tier == .quickTest {
      let root = trial.configurationId!
      roots.insert(root)
      if !trial.state.isFinished { open.insert(root) }
    }
    return roots.count - open.count
  }

  /// Whether a quick test can be sent to full training from the dashboard now.
  func canPromote(_ trial: TrialRecord) -> Bool {
    spec?.tiers[.fullTraining] != nil && spec?.isAskAndTell == false && trial.tier == .quickTest
      && trial.state == .completed && trial.value != nil && fullTrainingOf[trial.id!] == nil
      && !pendingPromotions.contains(trial.id!) && study.state != .failed
  }
}

/// Results derived from one snapshot (importance, heatmaps), kept with it.
final class Memo: Sendable {
  private let values = Mutex<[String: any Sendable]>([:])

  func value<T: Sendable>(_ key: String, _ compute: () throws -> T) rethrows -> T {
    if let value = values.withLock({ $0[key] }) as? T { return value }
    let value = try compute()
    values.withLock { $0[key] = value }
    return value
  }
}

/// Snapshots by study, each valid while the study's change count stays the same; a running
/// study's for a second at most, since another process (`hpod run`) may be the one changing it.
final class SnapshotCache: Sendable {
  private let entries = Mutex<[Int64: (changes: Int, read: ContinuousClock.Instant, snapshot: StudySnapshot)]>([:])
  static let capacity = 16
  static let runningMaxAge = Duration.seconds(1)

  func snapshot(of id: Int64, service: StudyService) throws -> StudySnapshot {
    let changes = service.changeCount(of: id)
    let study = try service.existing(id)
    let now = ContinuousClock.now
    if let entry = entries.withLock({ $0[id] }), entry.changes == changes, entry.snapshot.study.state == study.state,
      study.state != .running || now - entry.read < Self.runningMaxAge
    {
      return entry.snapshot
    }
    let spec = try? service.spec(of: study)
    var snapshot = try StudySnapshot.load(study, spec: spec, database: service.database)
    if let spec, spec.search.warmStart != nil {
      snapshot.warmStart = Result { try service.warmStart(of: study, spec: spec)! }
        .mapError { WarmStartUnreadable(description: "\($0)") }
    }
    entries.withLock { entries in
      if entries.count >= Self.capacity, entries[id] == nil, let victim = entries.keys.first {
        entries[victim] = nil
      }
      entries[id] = (changes, now, snapshot)
    }
    return snapshot
  }
}

/// Why the dashboard cannot show a study's warm start (its source's spec no longer parses).
struct WarmStartUnreadable: Error, Sendable {
  var description: String
}
