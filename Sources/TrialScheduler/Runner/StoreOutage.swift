import Foundation
import Synchronization
import TrackingBridge

/// A study's writes to a store that cannot take them for now: the disk is full, the file
/// system went read-only, an I/O error, a folder that cannot be created. Such a write is not
/// dropped and does not fail the trial or the study: it is retried with backoff (50 ms, doubling
/// to 2 s) until it succeeds, and the study is paused meanwhile, with the reason published
/// once when the outage starts (`studyPaused`) and once when it ends (`studyResumed`).
///
/// Errors that no waiting mends (a constraint violated, a corrupt database) are rethrown.
///
/// The same pause covers the other things a study cannot do without and that come back by
/// themselves: a trial's folder that cannot be created, and an executor that cannot reach its
/// cluster (`TrialLaunchError.isOutage`: a Slurm controller that does not answer). The reason
/// names what it waits for, never "the store" for what is not the store.
final class StoreOutage: Sendable {
  /// One thing the study waits for: a retried write (`retrying`), or a trial whose executor
  /// cannot reach its cluster (`executor(_:trial:)`).
  private enum Wait: Hashable {
    case retry(Int)
    case executor(trialId: Int64)
  }

  private struct State {
    /// What the study waits for now, with why; the study is paused while this is not empty.
    var waits: [Wait: String] = [:]
    /// The reason the pause was published with.
    var published: String?
    var nextRetry = 0
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

  /// Why the study is paused, or nil when nothing holds it.
  var reason: String? { state.withLock { $0.published } }

  /// Stops retrying (the study is stopping): pending writes fail with their error.
  func abandon() { state.withLock { $0.abandoned = true } }

  /// Whether the study is stopping, so that retries give up.
  var isStopped: Bool { state.withLock { $0.abandoned } }

  /// Runs `write` until it succeeds; `what` names it for the user ("saving trial 4's metrics").
  /// `giveUp`, checked before each new try, ends the retries with the last error (a trial
  /// that was not started yet is given up when its study is stopped).
  func retrying<T>(_ what: String, giveUp: () -> Bool = { false }, _ write: () async throws -> T) async throws -> T {
    var pause = Self.firstPause
    let key = Wait.retry(
      state.withLock { state in
        defer { state.nextRetry += 1 }
        return state.nextRetry
      })
    defer { update(key, nil) }
    while true {
      do {
        return try await write()
      } catch {
        guard Self.isEnvironmental(error), !isStopped, !Task.isCancelled, !giveUp() else { throw error }
        update(key, "\(what) failed: \(Self.describe(error)); retrying until \(Self.awaited(error))")
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

  /// A trial's executor cannot reach its cluster (`reason`), or can again (nil): the study is
  /// paused meanwhile, as for a store that cannot be written.
  func executor(_ reason: String?, trialId: Int64) {
    update(.executor(trialId: trialId), reason)
  }

  /// Sets or clears one wait; publishes the pause when the first begins and the resumption
  /// when the last ends.
  private func update(_ key: Wait, _ reason: String?) {
    let (paused, resumed) = state.withLock { state -> (String?, String?) in
      state.waits[key] = reason
      if state.published == nil, let reason {
        state.published = reason
        return (reason, nil)
      }
      if state.waits.isEmpty, let was = state.published {
        state.published = nil
        return (nil, was)
      }
      return (nil, nil)
    }
    if let paused { emit(.studyPaused(reason: paused)) }
    if let resumed { emit(.studyResumed(after: resumed)) }
  }

  /// Whether the error comes from the machine (space, permissions, I/O, a busy lock) rather
  /// than from what was written.
  static func isEnvironmental(_ error: any Error) -> Bool {
    if let environmental = StoreFailure.isEnvironmental(error) { return environmental }
    if error is WorkspaceError { return true }
    if let error = error as? TrialLaunchError { return error.isOutage }
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
  static func isStoreError(_ error: any Error) -> Bool { StoreFailure.isStoreError(error) }

  /// What a retry waits for.
  static func awaited(_ error: any Error) -> String {
    if let awaiting = (error as? TrialLaunchError)?.awaiting { return awaiting }
    if error is WorkspaceError { return "the trial's folder can be created" }
    return "the store can be written"
  }

  static func describe(_ error: any Error) -> String {
    StoreFailure.describe(error) ?? (error as? WorkspaceError)?.message ?? "\(error)"
  }
}
