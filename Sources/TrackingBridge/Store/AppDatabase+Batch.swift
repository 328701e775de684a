import Foundation
public import GRDB

/// Reads for views of many trials at once (the dashboard): one query each, never one per trial.
extension AppDatabase {
  /// The metric histories of several trials, by trial id, each in name and step order.
  public func metrics(trialIds: [Int64], names: [String]? = nil) throws -> [Int64: [MetricPoint]] {
    guard !trialIds.isEmpty else { return [:] }
    return try writer.read { db in
      var request = MetricPoint.filter(trialIds.contains(MetricPoint.Columns.trialId))
      if let names { request = request.filter(names.contains(MetricPoint.Columns.name)) }
      let points = try request.order(
        MetricPoint.Columns.trialId, MetricPoint.Columns.name, MetricPoint.Columns.step, Column.rowID
      )
      .fetchAll(db)
      return Dictionary(grouping: points, by: \.trialId)
    }
  }

  /// The last value of every metric of every trial of a study (the highest step, the last
  /// stored among equal steps, as `lastMetricValues`), grouped in SQL so only one row per
  /// trial and metric reaches Swift.
  public func finalMetricValues(studyId: Int64) throws -> [Int64: [String: Double]] {
    try writer.read { db in
      // `metricLast` holds the last point of each (trial, metric), kept by a trigger on
      // `metric` (migration v17).
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT metricLast.trialId, metricLast.name, \(StoredMetricValue.select("metricLast")) FROM metricLast
          WHERE metricLast.trialId IN (SELECT id FROM trial WHERE studyId = ?)
          """, arguments: [studyId])
      var values: [Int64: [String: Double]] = [:]
      while let row = try rows.next() { values[row[0], default: [:]][row[1]] = StoredMetricValue.read(row[2]) }
      return values
    }
  }

  /// The registered versions of models made by one study's trials.
  public func modelVersions(studyId: Int64) throws -> [ModelVersion] {
    try writer.read { db in
      try ModelVersion.filter(Column("studyId") == studyId).order(Column("modelName"), Column("version")).fetchAll(db)
    }
  }
}
