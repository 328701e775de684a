import Foundation
public import SearchStrategies
public import TrackingBridge
import Yams

/// Finds or creates the study row for a spec, as Optuna's `load_if_exists` does: the same spec
/// run again resumes its unfinished study; an edited spec whose search space and objectives
/// are unchanged continues the study (more budget runs more trials, new thresholds judge the
/// runs it has) and says what changed; an edit to what the trials measure is refused with the
/// difference, rather than silently mixed with the old trials or silently started over.
public enum StudySession {
  public enum Start: Sendable {
    case new(StudyRecord)
    case resume(StudyRecord)
    /// The study continues under an edited spec; `changes` lists the edits.
    case continued(StudyRecord, changes: [SpecDiff.Change])
    /// A new study under an edited spec, beside `previous`, which ended failed or cancelled
    /// (a study that could not work is fixed by starting over, not by adding to its failures).
    case replacing(StudyRecord, previous: StudyRecord)
    case alreadyFinished(StudyRecord)
  }

  public struct Conflict: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  public static func start(spec: StudySpec, yaml: String, path: String?, database: AppDatabase, fresh: Bool) throws
    -> Start
  {
    let hash = digest(yaml)
    if !fresh, let existing = try database.latestStudy(named: spec.name) {
      if existing.specHash == hash {
        // A study that failed or was cancelled goes on where it stopped (its cause fixed
        // outside the spec, in the script or the data), as `hpod resume` does on the daemon.
        return existing.state == .completed ? .alreadyFinished(existing) : .resume(existing)
      }
      let diff = SpecDiff.between(existing.specYAML, yaml)
      if existing.state == .failed || existing.state == .cancelled {
        return .replacing(
          try create(spec: spec, yaml: yaml, path: path, hash: hash, database: database), previous: existing)
      }
      guard measuresTheSame(existing, as: spec, diff: diff) else {
        throw Conflict(description: refusal(existing, spec: spec, path: path, diff: diff))
      }
      let continued = try database.continueStudy(
        id: existing.id!, specYAML: yaml, specPath: path, specHash: hash,
        rejudgeRegistration: diff.changes.contains { $0.path.hasPrefix("registration") })
      return .continued(continued, changes: diff.changes)
    }
    return .new(try create(spec: spec, yaml: yaml, path: path, hash: hash, database: database))
  }

  private static func create(spec: StudySpec, yaml: String, path: String?, hash: String, database: AppDatabase)
    throws -> StudyRecord
  {
    if let warmStart = spec.search.warmStart {
      _ = try WarmStartHistory.load(warmStart, for: spec, study: nil, database: database)
    }
    return try database.createStudy(
      StudyRecord(
        name: spec.name, specYAML: yaml, specPath: path, specHash: hash, objectiveMetric: spec.objective.metric,
        direction: spec.objective.direction))
  }

  /// Whether the edited spec's trials measure what the study's did: the same search space,
  /// objectives and constraints. Judged on the parsed specs (so `1e-4` and `0.0001` are the
  /// same bound); when the old spec no longer parses (its program moved), on the sections'
  /// text.
  static func measuresTheSame(_ study: StudyRecord, as spec: StudySpec, diff: SpecDiff) -> Bool {
    let base = study.specPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
    guard
      let old = try? StudySpec.parse(
        yaml: study.specYAML, file: study.specPath ?? "study.yaml", baseDirectory: base)
    else {
      return diff.identityChanges.isEmpty
    }
    return old.space == spec.space && old.objectives == spec.objectives && old.constraints == spec.constraints
  }

  static func refusal(_ study: StudyRecord, spec: StudySpec, path: String?, diff: SpecDiff) -> String {
    let changes = diff.identityChanges.isEmpty ? diff.changes : diff.identityChanges
    let lines = SpecDiff.lines(changes)
    let file = path.map { ($0 as NSString).lastPathComponent } ?? "the spec"
    return """
      study '\(spec.name)' (id \(study.id!)) was run with another search space or objective, so its trials \
      cannot be continued under this spec:
      \(lines.joined(separator: "\n"))
      Either start a new study: hpod run --new \(file)
      or start a new study that learns from the old one's trials: give it another name and add \
      `search: {warm_start: {study: \(spec.name)}}`.
      """
  }

  /// FNV-1a over the spec's content: a stable fingerprint to notice edits, not a security
  /// hash. The YAML is re-serialized first, so comments and layout do not count as edits.
  static func digest(_ text: String) -> String {
    let canonical = (try? Yams.compose(yaml: text)).flatMap { $0 }.flatMap { try? Yams.serialize(node: $0) } ?? text
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in canonical.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x100_0000_01b3
    }
    return String(hash, radix: 16)
  }
}

extension StudySpec {
  /// The strategy the spec asks for. A grid is enumerated here, so a grid that is too large
  /// or misses values is reported before any trial starts.
  public func makeStrategy() throws -> any SearchStrategy {
    let kind: StrategyKind =
      switch search.algorithm {
      case .grid: .grid
      case .random: .random
      case .quasiRandom: .quasiRandom
      case .bayes: .bayes
      case .pbt: .random  // the first population; then members copy and perturb each other
      }
    let strategy = kind.makeStrategy(seed: search.seed, startupTrials: search.startupTrials)
    if let grid = strategy as? GridSearch { _ = try grid.configurations(of: space) }
    return strategy
  }
}
