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

  /// The registered versions of models made by one study's trials.
  public func modelVersions(studyId: Int64) throws -> [ModelVersion] {
    try writer.read { db in
      try ModelVersion.filter(Column("studyId") == studyId).order(Column("modelName"), Column("version")).fetchAll(db)
    }
  }
}
