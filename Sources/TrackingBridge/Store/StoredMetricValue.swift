/// How a metric's value is kept in SQLite. ±Infinity is a REAL like any other, but SQLite
/// turns a NaN into NULL: a NaN point is stored as 0 with its `isNaN` column set, as MLflow's
/// own SQL store does (`is_nan`), and read back as NaN. A training script that logs a diverged
/// loss keeps its history; nothing in the store is NULL.
enum StoredMetricValue {
  /// The value column as SQL reads it back: NULL for a NaN (`read` turns it into NaN).
  static func select(_ table: String? = nil) -> String {
    let prefix = table.map { "\($0)." } ?? ""
    return "CASE WHEN \(prefix)isNaN THEN NULL ELSE \(prefix)value END"
  }

  /// The value and flag columns to write.
  static func stored(_ value: Double) -> (value: Double, isNaN: Bool) { value.isNaN ? (0, true) : (value, false) }

  /// A value read through `select`.
  static func read(_ value: Double?) -> Double { value ?? .nan }
}
