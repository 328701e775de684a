public import GRDB

/// One write the store runs in one transaction, built by an `AppDatabase` method (`creatingTrial`,
/// `finishingTrial`, ...): from synchronous code with `perform(_:)`, and from async code with
/// `await perform(_:)`, GRDB's asynchronous write, which waits for the writer without holding
/// one of the few threads of Swift's cooperative pool (a trial's metrics and its end are written
/// from async tasks, many at once).
public struct StoreWrite<Result: Sendable>: Sendable {
  let body: @Sendable (Database) throws -> Result

  init(_ body: @escaping @Sendable (Database) throws -> Result) {
    self.body = body
  }
}

/// One read of the store (a consistent snapshot, in parallel with other reads), run as
/// `StoreWrite` is: `perform(_:)` from synchronous code, `await perform(_:)` from async code.
public struct StoreRead<Result: Sendable>: Sendable {
  let body: @Sendable (Database) throws -> Result

  init(_ body: @escaping @Sendable (Database) throws -> Result) {
    self.body = body
  }
}

extension AppDatabase {
  public func perform<Result>(_ read: StoreRead<Result>) throws -> Result {
    try writer.read(read.body)
  }

  public func perform<Result>(_ read: StoreRead<Result>) async throws -> Result {
    try await writer.read(read.body)
  }

  public func perform<Result>(_ write: StoreWrite<Result>) throws -> Result {
    try writer.write(write.body)
  }

  public func perform<Result>(_ write: StoreWrite<Result>) async throws -> Result {
    try await writer.write(write.body)
  }
}
