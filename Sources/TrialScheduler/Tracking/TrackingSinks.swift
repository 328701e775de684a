public import TrackingBridge

/// The one place that decides where a study's trials are tracked, shared by `hpod run` and
/// the daemon: a study whose spec names an MLflow server is mirrored there; any other uses
/// hpod's own MLflow API when one serves the trials.
public struct TrackingSinks: Sendable {
  /// Sends mirrored studies to their servers; nil when nothing is mirrored (`hpod run` of a
  /// study without a server and no backlog).
  public let mirror: MLflowMirror?
  /// hpod's MLflow API for the trials; nil where none is served.
  public let embedded: EmbeddedTracking?
  let database: AppDatabase

  public init(database: AppDatabase, mirror: MLflowMirror?, embedded: EmbeddedTracking?) {
    self.database = database
    self.mirror = mirror
    self.embedded = embedded
  }

  /// The sink of a study with this spec; nil: its trials are tracked in the store only.
  public func sink(for spec: StudySpec) -> (any TrackingSink)? {
    if let uri = spec.tracking.mlflowURI, let mirror {
      return MirroredTracking(mirror: mirror, database: database, uri: uri, experiment: spec.tracking.experiment)
    }
    return embedded
  }
}
