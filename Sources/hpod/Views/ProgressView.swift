import Foundation
import HPODAPI
import MultiObjective
import NumberText
import SearchStrategies
import StudyAnalysis
import StudyModel
import Synchronization
import TrackingBridge
import TrialScheduler

/// The terminal view of a running study. Live (redrawn in place, at most 10 times a second):
/// a progress bar of trials, the best so far with its parameters, and each running trial with
/// its latest metrics. Plain (when stdout is not a terminal): one line per trial event. With
/// several objectives the best so far is each tier's Pareto front of feasible trials, from the
/// metrics the trials reported.
final class ProgressView: Sendable {
  private struct RunningTrial {
    var number: Int
    var started: Date
    var step = -1
    var metrics: [String: Double] = [:]
  }

  private struct State {
    var studyStarted = Date()
    var running: [Int64: RunningTrial] = [:]
    /// Trials that wait (a Slurm job held in its queue), by id: number and why.
    var waiting: [Int64: (number: Int, reason: String)] = [:]
    /// By state (`completed`, `failed`, ...).
    var finished: [String: Int] = [:]
    var quickTestsDone = 0
    var fullTrainings = (started: 0, done: 0)
    /// By tier (`quick_test`, `full_training`).
    var best: [String: API.Trial] = [:]
    /// With several objectives, by tier: the feasible trials no other beats in every objective.
    var fronts: [String: [FrontMember]] = [:]
    var infeasible = 0
    var registered: String?
    var drawnLines = 0
    var lastDraw = Date.distantPast
    var notes: [String] = []
  }

  private struct FrontMember {
    var trial: API.Trial
    var metrics: [String: Double]
    var losses: [Double]
  }

  /// What the view shows of a study, from its spec (`hpod run`) or the API (`hpod watch`).
  struct Header: Sendable {
    var name: String
    var algorithm: String
    var maxTrials: Int?
    var parallelism: Int
    var metric: String
    var direction: Direction
    var hasTiers: Bool
    /// Every objective, the first as `metric` and `direction`; one for a single objective.
    var objectives: [(metric: String, direction: Direction)]
    var constraints: [StudySpec.Threshold]

    init(spec: StudySpec) {
      name = spec.name
      algorithm = spec.search.algorithm.rawValue
      maxTrials = spec.search.maxTrials
      parallelism = spec.search.parallelism
      metric = spec.objective.metric
      direction = spec.objective.direction
      hasTiers = !spec.tiers.isEmpty
      objectives = spec.objectives.map { ($0.metric, $0.direction) }
      if objectives.isEmpty { objectives = [(metric, direction)] }
      constraints = spec.constraints
    }

    /// `front` is the study's `best` when it has several objectives (`API.Front`).
    init(study: API.Study, front: API.Front? = nil) {
      name = study.name
      algorithm = study.algorithm ?? "?"
      maxTrials = study.maxTrials
      parallelism = study.parallelism ?? 1
      metric = study.objective.metric
      direction = Direction(rawValue: study.objective.direction) ?? .minimize
      hasTiers = study.fullTrainings > 0
      objectives = [(metric, direction)]
      constraints = []
      if let front, front.objectives.count > 1 {
        objectives = front.objectives.map { ($0.metric, Direction(rawValue: $0.direction) ?? .minimize) }
        constraints = front.constraints.compactMap(StudySpec.Threshold.init(parsing:))
      }
    }

    var isMultiObjective: Bool { objectives.count > 1 }
  }

  private let header: Header
  private let live: Bool
  /// Where notes go when the view is not live: stdout, or stderr when stdout carries JSON.
  private let notes: FileHandle
  private let state = Mutex(State())

  init(header: Header, live: Bool, notes: FileHandle = .standardOutput) {
    self.header = header
    self.live = live
    self.notes = notes
  }

  convenience init(spec: StudySpec, live: Bool, notes: FileHandle = .standardOutput) {
    self.init(header: Header(spec: spec), live: live, notes: notes)
  }

  /// A scheduler's event (`hpod run`), in the same shapes as the daemon's stream.
  func handle(_ event: StudyEvent) { handle(API.Event.Body(event)) }

  /// The trials a study finished before the view joined it (`hpod watch` on a running
  /// study): counted and weighed for the best without a line each, so the first trial the
  /// view sees is marked "new best" only if it beats them.
  func seed(finished trials: [API.Trial]) {
    state.withLock { state in
      for trial in trials where TrialState(rawValue: trial.state)?.isFinished == true { _ = record(trial, &state) }
    }
  }

  /// Counts a finished trial; true when it is a new best (or joins the front).
  private func record(_ trial: API.Trial, _ state: inout State) -> Bool {
    let metrics = state.running[trial.id]?.metrics ?? [:]
    state.running[trial.id] = nil
    state.waiting[trial.id] = nil
    state.finished[trial.state, default: 0] += 1
    // The budget counts configurations: a repeat or a re-run does not move the bar.
    if trial.tier == Tier.fullTraining.rawValue {
      state.fullTrainings.done += 1
    } else if trial.repeatIndex == 0 && trial.retryOf == nil {
      state.quickTestsDone += 1
    }
    guard trial.state == TrialState.completed.rawValue, let value = trial.value else { return false }
    if header.isMultiObjective { return joinFront(trial, metrics: metrics, state: &state) }
    if let best = state.best[trial.tier]?.value, !header.direction.isBetter(value, than: best) { return false }
    state.best[trial.tier] = trial
    return true
  }

  /// An event as the daemon's stream sends it (`hpod watch`).
  func handle(_ event: API.Event.Body) {
    switch event {
    case .studyStarted(let study, let kept, let reruns):
      var resume = kept > 0 ? "; resuming with \(kept) finished trial(s) kept" : ""
      if reruns > 0 { resume += ", \(reruns) interrupted or crashed trial(s) will run again" }
      emit(
        "study '\(study.name)' (id \(study.id)): \(header.algorithm) search, \(budgetText) trials, \(header.parallelism) at a time\(resume)"
      )
    case .warmStarted(let sourceId, let source, let observations, let outside):
      let left = outside > 0 ? "; \(outside) outside this study's space left out" : ""
      note(
        "warm start: \(observations) finished configuration(s) of study '\(source)' (id \(sourceId)) feed the search, outside the budget\(left)"
      )
    case .trialWaiting(let trialId, let number, let reason):
      state.withLock { $0.waiting[trialId] = reason.map { (number, $0) } }
      if !live, let reason { emit("trial \(number) waits: \(reason)") }
    case .trialStarted(let trial):
      state.withLock { state in
        state.running[trial.id] = RunningTrial(number: trial.number, started: trial.startedAt ?? Date())
        state.waiting[trial.id] = nil
      }
      if !live { emit("trial \(trial.number) started: \(Self.params(trial.params))") }
    case .trialMetrics(let trialId, _, let step, let values):
      state.withLock { state in
        state.running[trialId]?.step = step
        state.running[trialId]?.metrics.merge(values) { _, new in new }
      }
    case .trialFinished(let trial), .trialPruned(let trial):
      let improved = state.withLock { record(trial, &$0) }
      if !live {
        let value = trial.value.map { " \(header.metric)=\(Self.format($0))" } ?? ""
        let reason = trial.state == TrialState.completed.rawValue ? "" : ": \(trial.reason ?? "")"
        let duration = trial.durationSeconds.map { String(format: " in %.1fs", $0) } ?? ""
        let tier = trial.tier == Tier.fullTraining.rawValue ? " (full training)" : ""
        let mark = !improved ? "" : header.isMultiObjective ? "  (on the front)" : "  (new best)"
        emit("trial \(trial.number)\(tier) \(trial.state)\(value)\(duration)\(reason)\(mark)")
      }
    case .trialPromoted(let quickTest, let fullTraining):
      state.withLock { $0.fullTrainings.started += 1 }
      note(
        "promoted quick test \(quickTest.number) (\(header.metric)=\(quickTest.value.map(Self.format) ?? "-")) to full training as trial \(fullTraining.number)"
      )
    case .modelRegistered(let model, let version, let conditions, let trial):
      let line = "registered \(model) v\(version) from trial \(trial.number) (\(conditions))"
      state.withLock { $0.registered = line }
      note(line)
    case .registrationSkipped(let trial, let reason):
      note("trial \(trial.number) not registered: \(reason)")
    case .promotionJudged(_, _, let reason):
      note(reason)
    case .studyPaused(let reason):
      note("paused: \(reason)")
    case .studyResumed(let pausedFor):
      note("resumed (it was paused: \(pausedFor))")
    case .studyWarning(let message):
      note("warning: \(message)")
    case .lagged(let dropped):
      note("the view missed \(dropped) events (the daemon's buffer was full); counts may be behind")
    case .studyFinished:
      break
    }
    if live { redraw(force: false) }
  }

  func note(_ message: String) {
    if live {
      state.withLock { $0.notes.append(message) }
      redraw(force: true)
    } else {
      notes.writeText(message + "\n")
    }
  }

  /// Leaves the last frame on screen.
  func finish() {
    if live { redraw(force: true) }
  }

  private var budgetText: String { header.maxTrials.map(String.init) ?? "grid" }

  private func emit(_ line: String) {
    FileHandle.standardOutput.writeText(line + "\n")
  }

  private func redraw(force: Bool) {
    let frame: String? = state.withLock { state in
      let now = Date()
      guard force || now.timeIntervalSince(state.lastDraw) >= 0.1 else { return nil }
      state.lastDraw = now
      let lines = render(state, now: now)
      let erase = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)F\u{1B}[J" : ""
      state.drawnLines = lines.count
      return erase + lines.joined(separator: "\n") + "\n"
    }
    if let frame { FileHandle.standardOutput.writeText(frame) }
  }

  private func render(_ state: State, now: Date) -> [String] {
    let done = state.quickTestsDone
    let total = header.maxTrials ?? max(done + state.running.count, 1)
    let width = 30
    let filled = min(width, total > 0 ? done * width / total : 0)
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    let elapsed = Int(now.timeIntervalSince(state.studyStarted))
    var counts = ["\(state.running.count) running"]
    for trialState in [TrialState.failed, .timedOut, .pruned, .cancelled] {
      if let count = state.finished[trialState.rawValue], count > 0 { counts.append("\(count) \(trialState.rawValue)") }
    }
    if state.infeasible > 0 { counts.append("\(state.infeasible) infeasible") }
    var lines = [
      "\(header.name)  \(bar)  \(done)/\(total) trials  \(counts.joined(separator: "  "))  \(String(format: "%02d:%02d", elapsed / 60, elapsed % 60))"
    ]
    if state.fullTrainings.started > 0 {
      lines[0] += "  full trainings \(state.fullTrainings.done)/\(state.fullTrainings.started)"
    }
    for tier in [Tier.quickTest, .fullTraining] where header.isMultiObjective {
      guard let front = state.fronts[tier.rawValue], !front.isEmpty else { continue }
      let label = !header.hasTiers ? "front" : "front of the \(tier == .quickTest ? "quick tests" : "full trainings")"
      lines.append("  \(label): \(front.count) trial(s)")
      for member in front.prefix(Self.frontLines) {
        let values = header.objectives.map { "\($0.metric)=\(member.metrics[$0.metric].map(Self.format) ?? "-")" }
        lines.append(
          "    trial \(member.trial.number)  \(values.joined(separator: " "))  \(Self.params(member.trial.params))")
      }
      if front.count > Self.frontLines { lines.append("    … and \(front.count - Self.frontLines) more") }
    }
    for tier in [Tier.quickTest, .fullTraining] where !header.isMultiObjective {
      guard let best = state.best[tier.rawValue], let value = best.value else { continue }
      let label = !header.hasTiers ? "best" : "best \(tier == .quickTest ? "quick test" : "full training")"
      lines.append(
        "  \(label) \(header.metric)=\(Self.format(value)) (trial \(best.number)): \(Self.params(best.params))")
    }
    if header.isMultiObjective ? state.fronts.isEmpty : state.best.isEmpty {
      lines.append("  best: no \(header.isMultiObjective ? "feasible " : "")completed trial yet")
    }
    if let registered = state.registered { lines.append("  \(registered)") }
    for trial in state.running.values.sorted(by: { $0.number < $1.number }).prefix(12) {
      let metrics = trial.metrics.sorted { $0.key < $1.key }.prefix(4).map { "\($0.key)=\(Self.format($0.value))" }
      let step = trial.step >= 0 ? "step \(trial.step)  " : ""
      let seconds = Int(now.timeIntervalSince(trial.started))
      lines.append("  ▸ trial \(trial.number)  \(seconds)s  \(step)\(metrics.joined(separator: "  "))")
    }
    if state.running.count > 12 { lines.append("  … and \(state.running.count - 12) more running") }
    for (_, waiting) in state.waiting.sorted(by: { $0.value.number < $1.value.number }).prefix(4) {
      lines.append("  ◦ trial \(waiting.number) waits: \(waiting.reason)")
    }
    if state.waiting.count > 4 { lines.append("  … and \(state.waiting.count - 4) more waiting") }
    lines += state.notes.suffix(3).map { "  ! \($0)" }
    return lines
  }

  /// How many front members the live view lists, by the first objective.
  static let frontLines = 5

  /// Adds a completed trial to its tier's front if it reported every objective, meets every
  /// constraint and no member beats it; drops the members it beats. True when it joined.
  private func joinFront(_ trial: API.Trial, metrics: [String: Double], state: inout State) -> Bool {
    var values: [Double] = []
    for objective in header.objectives {
      guard let value = metrics[objective.metric], value.isFinite else { return false }
      values.append(value)
    }
    guard header.constraints.allSatisfy({ metrics[$0.metric].map($0.holds(for:)) ?? false }) else {
      state.infeasible += 1
      return false
    }
    let losses = zip(header.objectives, values).map { $0.direction.loss($1) }
    let candidates = (state.fronts[trial.tier] ?? []) + [FrontMember(trial: trial, metrics: metrics, losses: losses)]
    let front = Dominance.front(candidates.map(\.losses)).map { candidates[$0] }
    state.fronts[trial.tier] = front.sorted { ($0.losses[0], $0.trial.number) < ($1.losses[0], $1.trial.number) }
    return front.contains { $0.trial.id == trial.id }
  }

  static func params(_ json: String) -> String {
    guard let configuration = try? JSONDecoder().decode(Configuration.self, from: Data(json.utf8)) else { return json }
    return params(configuration.values)
  }

  static func params(_ values: [String: ParameterValue]) -> String {
    Configuration(values).map { "\($0.key)=\(format($0.value))" }.joined(separator: " ")
  }

  static func format(_ value: ParameterValue) -> String { value.shown }

  static func format(_ value: Double) -> String { NumberText.of(value) }
}
