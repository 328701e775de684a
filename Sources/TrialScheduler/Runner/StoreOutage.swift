import Foundation
import GRDB
import Synchronization

/// A study's writes to a store that cannot take them for now: the disk is full, the file
/// system went read-only, an I/O error, a folder that cannot be created. Such a write is not
/// dropped and does not fail the trial or the study: it is retried with backoff (50 ms, doubling
/// to 2 s) until it succeeds, and the study is paused meanwhile, with the reason published
/// once when the outage starts (`studyPaused`) and once when it ends (`studyResumed`).
///
/// Errors that no waiting mends (a constraint violated, a corrupt database) are rethrown.
final class StoreOutage: Sendable {
  private struct State {
    var reason: String?
    /// Set when the study is stopped (cancel, Ctrl-C, shutdown): retries give up so that the
    /// stop is answered at once; what was not written stays unfinished in the store, and the
    /// study's next run does it again (an unfinished trial runs again).
    var abandoned = false
  }

  private let state = Mutex(State())
  private let emit: @Sendable (StudyEvent) -> Void
  static let firstPause: Duration = .milliseconds(50)
  static let longestPause: Duration = .seconds(2)

  init(emit: @escaping @Sendable (StudyEvent) -> Void) {
    self.emit = emit
  }

  /// Why the study is paused, or nil when its writes go through.
  var reason: String? { state.withLock { $0.reason } }

  /// Stops retrying (the study is stopping): pending writes fail with their error.
  func abandon() { state.withLock { $0.abandoned = true } }

  /// Whether the study is stopping, so that retries give up.
  var isStopped: Bool { state.withLock { $0.abandoned } }

  /// Runs `write` until it succeeds; `what` names it for the user ("saving trial 4's metrics").
  func retrying<T>(_ what: String, _ write: () async throws -> T) async throws -> T {
    var pause = Self.firstPause
    while true {
      do {
        let result = try await write()
        recovered()
        return result
      } catch {
        guard Self.isEnvironmental(error), !isStopped, !Task.isCancelled else { throw error }
        let until = error is WorkspaceError ? "it can be made" : "the store can be written"
        began("\(what) failed: \(Self.describe(error)); retrying until \(until)")
        await sleep(pause)
        pause = min(pause * 2, Self.longestPause)
      }
    }
  }

  /// Waits `pause`, or less when the study is stopped meanwhile.
  private func sleep(_ pause: Duration) async {
    let deadline = ContinuousClock.now + pause
    while ContinuousClock.now < deadline, !isStopped, !Task.isCancelled {
      try? await Task.sleep(for: min(.milliseconds(50), deadline - ContinuousClock.now))
    }
  }

  private func began(_ reason: String) {
    let first = state.withLock { state in
      defer { state.reason = reason }
      return state.reason == nil
    }
    if first { emit(.studyPaused(reason: reason)) }
  }

  private func recovered() {
    let was = state.withLock { state in
      defer { state.reason = nil }
      return state.reason
    }
    if let was { emit(.studyResumed(after: was)) }
  }

  /// Whether the error comes from the machine (space, permissions, I/O, a busy lock) rather
  /// than from what was written.
  static func isEnvironmental(_ error: any Error) -> Bool {
    if let error = error as? DatabaseError {
      return [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_BUSY, .SQLITE_LOCKED]
        .contains(error.resultCode)
    }
    if error is WorkspaceError { return true }
    let nsError = error as NSError
    if nsError.domain == NSCocoaErrorDomain {
      return [
        CocoaError.fileWriteOutOfSpace.rawValue, CocoaError.fileWriteNoPermission.rawValue,
        CocoaError.fileWriteVolumeReadOnly.rawValue, CocoaError.fileWriteUnknown.rawValue,
      ].contains(nsError.code)
    }
    return nsError.domain == NSPOSIXErrorDomain
  }

  /// Whether the error comes from the store (SQLite) at all.
  static func isStoreError(_ error: any Error) -> Bool { error is DatabaseError }

  static func describe(_ error: any Error) -> String {
    if let error = error as? DatabaseError {
      return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "")"
    }
    return (error as? WorkspaceError)?.message ?? "\(error)"
  }
}
