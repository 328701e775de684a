import Foundation
import Synchronization
import TrackingBridge

/// Parsed specs by study id and spec digest: `hpod run` may continue a study under an edited
/// spec (`StudySession`), which changes its digest.
final class SpecCache: Sendable {
  private struct Key: Hashable {
    var studyId: Int64
    var specHash: String
  }

  private let specs = Mutex<[Key: StudySpec]>([:])

  func spec(of study: StudyRecord) throws -> StudySpec {
    let key = Key(studyId: study.id!, specHash: study.specHash)
    if let spec = specs.withLock({ $0[key] }) { return spec }
    let spec = try StudyService.spec(of: study)
    specs.withLock { $0[key] = spec }
    return spec
  }
}

/// Warm-start histories by study id, kept once read (they never change).
final class WarmStartCache: Sendable {
  private let histories = Mutex<[Int64: WarmStartHistory]>([:])

  func history(of id: Int64, load: () throws -> WarmStartHistory) rethrows -> WarmStartHistory {
    if let history = histories.withLock({ $0[id] }) { return history }
    let history = try load()
    histories.withLock { $0[id] = history }
    return history
  }
}

/// Study summaries by study, dropped by each change this process makes (`invalidate`) and,
/// for the changes another process makes to the same store (a study `hpod run` drives while
/// the daemon answers for it), read again once older than `maxAge`.
final class SummaryCache: Sendable {
  private struct State {
    var entries: [Int64: (summary: AppDatabase.StudySummary, read: ContinuousClock.Instant)] = [:]
    /// Bumped by every invalidation, so a summary read before a change is never stored after it.
    var generation: [Int64: Int] = [:]
  }

  private let state = Mutex(State())
  let maxAge: Duration

  init(maxAge: Duration) {
    self.maxAge = maxAge
  }

  func summary(of id: Int64, load: () throws -> AppDatabase.StudySummary) rethrows -> AppDatabase.StudySummary {
    let now = ContinuousClock.now
    let (cached, generation) = state.withLock { ($0.entries[id], $0.generation[id, default: 0]) }
    if let cached, now - cached.read < maxAge { return cached.summary }
    let summary = try load()
    state.withLock { state in
      if state.generation[id, default: 0] == generation { state.entries[id] = (summary, now) }
    }
    return summary
  }

  func generation(of id: Int64) -> Int { state.withLock { $0.generation[id, default: 0] } }

  func invalidate(_ id: Int64) {
    state.withLock { state in
      state.entries[id] = nil
      state.generation[id, default: 0] += 1
    }
  }
}

/// Service failures, mapped to HTTP statuses by the routes and to exit codes by the CLI.
public enum ServiceError: Error, Sendable, CustomStringConvertible {
  case notFound(String)
  case conflict(String)
  case badRequest(String)

  public var description: String {
    switch self {
    case .notFound(let message), .conflict(let message), .badRequest(let message): message
    }
  }
}

/// Why each paused study waits, by id: shared by the runners' event handlers and the readers.
final class PausedStudies: Sendable {
  let reasons = Mutex<[Int64: String]>([:])
}
