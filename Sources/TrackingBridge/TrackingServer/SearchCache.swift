import Foundation

/// The results of recent run searches, so that a search's later pages (a page token) continue
/// the result its first page found. Bounded by the bytes the kept runs take, not by how many
/// results there are: one result may hold a thousand experiments' runs. The oldest results go
/// first; a result larger than the whole budget is not kept (its later pages search again).
struct SearchCache {
  /// What the kept results may take in all.
  static let budgetBytes = 64 << 20
  /// How long a result is used for later pages.
  static let lifetime: TimeInterval = 300

  private struct Entry {
    var at: Date
    var runs: [TrackingRun]
    var bytes: Int
  }

  private var entries: [String: Entry] = [:]
  private(set) var bytes = 0

  /// The result kept for `query`, if it is recent enough.
  func runs(for query: String, now: Date = Date()) -> [TrackingRun]? {
    guard let entry = entries[query], now.timeIntervalSince(entry.at) < Self.lifetime else { return nil }
    return entry.runs
  }

  mutating func keep(_ runs: [TrackingRun], for query: String, now: Date = Date()) {
    remove(query)
    let size = query.utf8.count + runs.reduce(0) { $0 + Self.estimatedBytes($1) }
    guard size <= Self.budgetBytes else { return }
    for (key, entry) in entries where now.timeIntervalSince(entry.at) >= Self.lifetime { remove(key) }
    while bytes + size > Self.budgetBytes, let oldest = entries.min(by: { $0.value.at < $1.value.at })?.key {
      remove(oldest)
    }
    entries[query] = Entry(at: now, runs: runs, bytes: size)
    bytes += size
  }

  private mutating func remove(_ query: String) {
    if let entry = entries.removeValue(forKey: query) { bytes -= entry.bytes }
  }

  /// About what a run takes in memory: its text, and a fixed cost per value for the
  /// dictionaries' and strings' headers.
  static func estimatedBytes(_ run: TrackingRun) -> Int {
    let perValue = 64
    var total = 256 + run.runId.utf8.count + run.name.utf8.count + run.userId.utf8.count + run.status.utf8.count
    for (key, value) in run.params { total += perValue + key.utf8.count + value.utf8.count }
    for (key, value) in run.tags { total += perValue + key.utf8.count + value.utf8.count }
    for (key, metric) in run.metrics { total += perValue + key.utf8.count + metric.key.utf8.count + 32 }
    return total
  }
}
