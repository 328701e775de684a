import GRDB

/// What a failed store call was, for those that decide what to do about it (the scheduler
/// waits out an outage and rethrows anything else) without knowing SQLite.
public enum StoreFailure {
  /// Whether `error` is the store's own (SQLite), as opposed to the caller's.
  public static func isStoreError(_ error: any Error) -> Bool { error is DatabaseError }

  /// Whether the store's `error` comes from the machine — space, permissions, I/O, a busy or
  /// locked file — rather than from what was written; nil when it is not the store's.
  public static func isEnvironmental(_ error: any Error) -> Bool? {
    guard let error = error as? DatabaseError else { return nil }
    return [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_BUSY, .SQLITE_LOCKED]
      .contains(error.resultCode)
  }

  /// The store's `error` as an operator reads it; nil when it is not the store's.
  public static func describe(_ error: any Error) -> String? {
    guard let error = error as? DatabaseError else { return nil }
    return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "")"
  }
}
