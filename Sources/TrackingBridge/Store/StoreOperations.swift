public import GRDB

/// One write the store runs in one transaction, built by an `AppDatabase` method (`creatingTrial`,
/// `finishingTrial`, ...): from synchronous code with `perform(_:)`, and from async code with
/// `await perform(_:)`, GRDB's asynchronous write, which waits for the writer without holding
/// one of the few threads of Swift's cooperative pool (a trial's metrics and its end are written
/// from async tasks, many at once).
///
/// Reads stay synchronous. GRDB's asynchronous read holds its reader connection until the
/// awaiting task resumes, so beside synchronous reads of the same pool it can starve: with 2
/// cores, 32 concurrent trial listings left both cooperative threads blocked waiting for a
/// reader that only a suspended task could give back, and the daemon stopped answering
/// (bench/api, 2026-12-02). A write runs on the writer's own queue and gives it back before
/// it resumes the task, so writes do not have that cycle.
public struct StoreWrite<Result: Sendable>: Sendable {
  let body: @Sendable (Database) throws -> Result

  init(_ body: @escaping @Sendable (Database) throws -> Result) {
    self.body = body
  }
}

extension AppDatabase {
  public func perform<Result>(_ write: StoreWrite<Result>) throws -> Result {
    try writer.write(write.body)
  }

  public func perform<Result>(_ write: StoreWrite<Result>) async throws -> Result {
    try await writer.write(write.body)
  }
}
