/// MLflow's rules for what a run may log (mlflow/utils/validation.py), so that hpod refuses
/// what an MLflow server refuses, with the same error code.
enum Validation {
  static let maxParamValue = 6000
  static let maxTagValue = 8000
  static let maxKey = 250
  static let maxMetricsPerBatch = 1000
  static let maxParamsPerBatch = 100
  static let maxTagsPerBatch = 100
  static let maxEntriesPerBatch = 1000

  /// Names of params, metrics and tags: letters, digits, `_ - . / ` and spaces, no `..` path.
  static func key(_ key: String, what: String, limit: Int = maxKey) throws {
    guard !key.isEmpty else { throw TrackingError.invalid("Missing value for required parameter '\(what)'.") }
    guard key.count <= limit else {
      throw TrackingError.invalid("'\(what)' exceeds the maximum length of \(limit) characters: '\(key.prefix(40))…'")
    }
    let allowed = key.unicodeScalars.allSatisfy { scalar in
      scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-./ :".unicodeScalars.contains(scalar)
    }
    guard allowed, !key.split(separator: "/").contains(".."), !key.hasPrefix("/") else {
      throw TrackingError.invalid(
        "Invalid \(what) name: '\(key)'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)."
      )
    }
  }

  /// Experiment and registered-model names: MLflow takes any text but an empty one, up to a
  /// length.
  static func name(_ name: String, what: String, limit: Int) throws {
    guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw TrackingError.invalid("Invalid \(what): '\(name)'. It cannot be empty.")
    }
    guard name.count <= limit else {
      throw TrackingError.invalid("The \(what) '\(name.prefix(40))…' exceeds the maximum length of \(limit) characters")
    }
  }

  static func batch(metrics: Int, params: Int, tags: Int) throws {
    if metrics > maxMetricsPerBatch {
      throw TrackingError.invalid(
        "A batch logging request can contain at most \(maxMetricsPerBatch) metrics. Got \(metrics) metrics.")
    }
    if params > maxParamsPerBatch {
      throw TrackingError.invalid(
        "A batch logging request can contain at most \(maxParamsPerBatch) params. Got \(params) params.")
    }
    if tags > maxTagsPerBatch {
      throw TrackingError.invalid(
        "A batch logging request can contain at most \(maxTagsPerBatch) tags. Got \(tags) tags.")
    }
    if metrics + params + tags > maxEntriesPerBatch {
      throw TrackingError.invalid(
        "A batch logging request can contain at most \(maxEntriesPerBatch) metrics, params and tags in total. Got \(metrics + params + tags)."
      )
    }
  }

  static func param(_ key: String, _ value: String) throws {
    try Self.key(key, what: "param key")
    guard value.count <= maxParamValue else {
      throw TrackingError.invalid(
        "Param value '\(value.prefix(40))…' had length \(value.count), which exceeded length limit of \(maxParamValue)")
    }
  }

  static func tag(_ key: String, _ value: String) throws {
    try Self.key(key, what: "tag key")
    guard value.count <= maxTagValue else {
      throw TrackingError.invalid(
        "Tag value '\(value.prefix(40))…' had length \(value.count), which exceeded length limit of \(maxTagValue)")
    }
  }

  /// The prefix of the tags hpod keeps its bookkeeping in (a trial's tier, lineage, repeat
  /// and promotion requests): the API does not let a client set or delete them, as MLflow
  /// keeps `mlflow.*` tags to itself.
  static let reservedTagPrefix = HpodTag.prefix

  static func requireNotReserved(_ key: String) throws {
    guard !key.hasPrefix(reservedTagPrefix) else {
      throw TrackingError.invalid(
        "Invalid tag key '\(key)': tags starting with '\(reservedTagPrefix)' are hpod's own and cannot be set or deleted through the API"
      )
    }
  }

  /// A tag a client sets: MLflow's rules, and not one of hpod's own.
  static func userTag(_ key: String, _ value: String) throws {
    try tag(key, value)
    try requireNotReserved(key)
  }

  static func metric(_ metric: TrackingMetric) throws {
    // NaN and ±Infinity are stored, as MLflow stores them (a diverged loss is a result too).
    try key(metric.key, what: "metric key")
  }
}
