import Foundation
import GRDB

// MARK: - Metrics and tags

extension AppDatabase {
  /// Appends metric points in one transaction.
  public func appendMetrics(_ points: [MetricPoint]) throws {
    guard !points.isEmpty else { return }
    try perform(appendingMetrics(points))
  }

  /// The write that appends the points and, with a handle, saves the trial's handle in the
  /// same transaction: a handle that records how far the trial's output was read never runs
  /// ahead of, or behind, the points read from it.
  public func appendingMetrics(_ points: [MetricPoint], trialId: Int64? = nil, handle: String? = nil)
    -> StoreWrite<Void>
  {
    StoreWrite { db in
      try insert(points, db)
      if let trialId, let handle {
        try db.execute(
          sql: "UPDATE trial SET handle = ? WHERE id = ? AND state IN ('pending', 'running')",
          arguments: [handle, trialId])
      }
    }
  }

  public func appendMetrics(_ points: [MetricPoint], trialId: Int64, handle: String) throws {
    try perform(appendingMetrics(points, trialId: trialId, handle: handle))
  }

  /// Inserts up to `rowsPerStatement` points per statement: one multi-row INSERT costs about
  /// as much as a single-row one, so large batches go several times faster.
  func insert(_ points: [MetricPoint], _ db: Database) throws {
    var start = 0
    while start < points.count {
      let rows = min(Self.rowsPerStatement, points.count - start)
      let statement = try db.cachedStatement(sql: Self.insertMetricsSQL(rows: rows))
      var arguments: [(any DatabaseValueConvertible)?] = []
      arguments.reserveCapacity(rows * 6)
      for point in points[start..<start + rows] {
        let stored = StoredMetricValue.stored(point.value)
        arguments +=
          [point.trialId, point.name, point.step, stored.value, stored.isNaN, point.timestamp]
          as [(any DatabaseValueConvertible)?]
      }
      try statement.execute(arguments: StatementArguments(arguments))
      start += rows
    }
  }

  private static let rowsPerStatement = 64

  private static func insertMetricsSQL(rows: Int) -> String {
    "INSERT INTO metric (trialId, name, step, value, isNaN, timestamp) VALUES "
      + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
  }

  /// The metric history of a trial, in step order (all metrics, or one).
  public func metrics(trialId: Int64, name: String? = nil) throws -> [MetricPoint] {
    try writer.read { db in
      var request = MetricPoint.filter(MetricPoint.Columns.trialId == trialId)
      if let name { request = request.filter(MetricPoint.Columns.name == name) }
      return try request.order(MetricPoint.Columns.name, MetricPoint.Columns.step, Column.rowID).fetchAll(db)
    }
  }

  /// Number of metric points stored for the trials of a study.
  public func metricCount(studyId: Int64) throws -> Int {
    try writer.read { db in
      try Int.fetchOne(
        db, sql: "SELECT COUNT(*) FROM metric JOIN trial ON trial.id = metric.trialId WHERE trial.studyId = ?",
        arguments: [studyId]) ?? 0
    }
  }

  public func setTags(trialId: Int64, _ tags: [String: String]) throws {
    try writer.write { db in
      for (key, value) in tags {
        try TagRecord(trialId: trialId, key: key, value: value).upsert(db)
      }
      try enqueueMirrorWrite(.setTags, trialId: trialId, payload: Self.json(tags), db)
    }
  }

  /// One tag's value on every trial of a study that has it, by trial id.
  public func tagValues(studyId: Int64, key: String) throws -> [Int64: String] {
    try writer.read { db in
      let rows = try Row.fetchAll(
        db,
        sql:
          "SELECT tag.trialId, tag.value FROM tag JOIN trial ON trial.id = tag.trialId WHERE trial.studyId = ? AND tag.key = ?",
        arguments: [studyId, key])
      return Dictionary(rows.map { ($0[0] as Int64, $0[1] as String) }, uniquingKeysWith: { _, last in last })
    }
  }

  public func tags(trialId: Int64) throws -> [String: String] {
    try writer.read { db in
      let rows = try TagRecord.filter(Column("trialId") == trialId).fetchAll(db)
      return Dictionary(rows.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }
  }
}

extension AppDatabase {
  /// Every metric name any trial of the study reported (printed or logged).
  public func metricNames(studyId: Int64) throws -> Set<String> {
    try writer.read { db in
      Set(
        try String.fetchAll(
          db,
          sql:
            "SELECT DISTINCT metric.name FROM metric JOIN trial ON trial.id = metric.trialId WHERE trial.studyId = ?",
          arguments: [studyId]))
    }
  }
}
