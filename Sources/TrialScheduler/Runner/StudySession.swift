import Foundation
public import SearchStrategies
public import TrackingBridge
import Yams

/// Finds or creates the study row for a spec: the same spec run again resumes its unfinished
/// study; a finished study is reported as such; a different spec under the same name is
/// refused rather than silently mixed with the old trials.
public enum StudySession {
  public enum Start: Sendable {
    case new(StudyRecord)
    case resume(StudyRecord)
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
      if existing.specHash != hash {
        guard existing.state.isFinished else {
          throw Conflict(
            description:
              "study '\(spec.name)' (id \(existing.id!)) is unfinished and was started from a different spec. Restore the spec to resume it, or pass --new to start a fresh study with this one."
          )
        }
      } else {
        return existing.state.isFinished ? .alreadyFinished(existing) : .resume(existing)
      }
    }
    if let warmStart = spec.search.warmStart {
      _ = try WarmStartHistory.load(warmStart, for: spec, study: nil, database: database)
    }
    let study = try database.createStudy(
      StudyRecord(
        name: spec.name, specYAML: yaml, specPath: path, specHash: hash, objectiveMetric: spec.objective.metric,
        direction: spec.objective.direction.rawValue))
    return .new(study)
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
      }
    let strategy = kind.makeStrategy(seed: search.seed, startupTrials: search.startupTrials)
    if let grid = strategy as? GridSearch { _ = try grid.configurations(of: space) }
    return strategy
  }
}
