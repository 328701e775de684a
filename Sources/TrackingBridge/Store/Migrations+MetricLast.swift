import GRDB

extension Migrations {
  /// v17, registered after v16 by `migrator` (in a file of its own to keep that one short).
  static func registerMetricLast(_ migrator: inout DatabaseMigrator) {
    migrator.registerMigration("v17: each trial's last point of each metric, kept by a trigger") { db in
      // What `finalMetricValues` reads: the point with the highest step (of equal steps, the
      // last stored) per trial and metric, as MAX(step, rowid) over `metric` finds it, without
      // scanning every point (a 10,000-trial study has hundreds of thousands). Kept by SQLite
      // itself on every insert, whichever path stores the point.
      try db.create(table: "metricLast", options: .withoutRowID) { t in
        t.column("trialId", .integer).notNull().references("trial", onDelete: .cascade)
        t.column("name", .text).notNull()
        t.column("step", .integer).notNull()
        t.column("value", .double).notNull()
        t.column("isNaN", .boolean).notNull()
        t.primaryKey(["trialId", "name"])
      }
      try db.execute(
        sql: """
          INSERT INTO metricLast (trialId, name, step, value, isNaN)
          SELECT metric.trialId, metric.name, metric.step, metric.value, metric.isNaN FROM metric JOIN (
            SELECT MAX(step * 4294967296 + rowid) % 4294967296 AS id FROM metric GROUP BY trialId, name
          ) AS last ON metric.rowid = last.id;
          CREATE TRIGGER metricLast_on_insert AFTER INSERT ON metric BEGIN
            INSERT INTO metricLast (trialId, name, step, value, isNaN)
            VALUES (NEW.trialId, NEW.name, NEW.step, NEW.value, NEW.isNaN)
            ON CONFLICT (trialId, name) DO UPDATE SET step = excluded.step, value = excluded.value, isNaN = excluded.isNaN
            WHERE excluded.step >= metricLast.step;
          END;
          """)
    }
  }
}
