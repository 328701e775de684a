import Foundation
import GRDB

extension AppDatabase {
  /// One metric's history for every trial of a study, by trial id, each in step order: one
  /// query over the (trialId, name, step) index, whatever the number of trials.
  public func metricHistories(studyId: Int64, name: String) throws -> [Int64: [MetricPoint]] {
    try writer.read { db in
      let points =
        try MetricPoint
        .filter(sql: "trialId IN (SELECT id FROM trial WHERE studyId = ?) AND name = ?", arguments: [studyId, name])
        .order(MetricPoint.Columns.trialId, MetricPoint.Columns.step, Column.rowID)
        .fetchAll(db)
      return Dictionary(grouping: points, by: \.trialId)
    }
  }
}
