import Foundation
import GRDB

/// One point of a metric's history: what a chart of many trials' curves needs, nothing more.
public struct CurvePoint: Sendable, Hashable {
  public var step: Int
  public var value: Double
}

extension AppDatabase {
  /// One metric's history for every trial of a study, by trial id, each in step order: one
  /// query over the (trialId, name, step) index, read as raw rows (a 10,000-trial study has
  /// hundreds of thousands of points), whatever the number of trials.
  public func metricHistories(studyId: Int64, name: String) throws -> [Int64: [CurvePoint]] {
    try writer.read { db in
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT trialId, step, \(StoredMetricValue.select()) FROM metric
          WHERE trialId IN (SELECT id FROM trial WHERE studyId = ?) AND name = ?
          ORDER BY trialId, step, rowid
          """, arguments: [studyId, name])
      var histories: [Int64: [CurvePoint]] = [:]
      try Self.collect(rows, into: &histories)
      return histories
    }
  }

  /// One metric's history for each of these trials, by trial id, each in step order (a chart
  /// that draws 2,000 curves of a 10,000-trial study reads those alone).
  public func metricHistories(trialIds: [Int64], name: String) throws -> [Int64: [CurvePoint]] {
    try writer.read { db in
      var histories: [Int64: [CurvePoint]] = [:]
      // (in slices, each well under SQLite's limit on a statement's arguments)
      for start in stride(from: 0, to: trialIds.count, by: 500) {
        let slice = trialIds[start..<min(start + 500, trialIds.count)]
        let rows = try Row.fetchCursor(
          db,
          sql: """
            SELECT trialId, step, \(StoredMetricValue.select()) FROM metric
            WHERE trialId IN (\(slice.map { _ in "?" }.joined(separator: ","))) AND name = ?
            ORDER BY trialId, step, rowid
            """, arguments: StatementArguments(slice.map { $0 as (any DatabaseValueConvertible)? } + [name]))
        try Self.collect(rows, into: &histories)
      }
      return histories
    }
  }

  /// Rows of (trialId, step, value) in trial and step order, as histories by trial id.
  private static func collect(_ rows: RowCursor, into histories: inout [Int64: [CurvePoint]]) throws {
    var current: (id: Int64, points: [CurvePoint])?
    while let row = try rows.next() {
      let id: Int64 = row[0]
      let point = CurvePoint(step: row[1], value: StoredMetricValue.read(row[2]))
      if current?.id == id {
        current!.points.append(point)
      } else {
        if let current { histories[current.id] = current.points }
        current = (id, [point])
      }
    }
    if let current { histories[current.id] = current.points }
  }
}
