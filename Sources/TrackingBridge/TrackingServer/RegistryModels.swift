import Foundation

/// A registered model as MLflow's registry API shows it: hpod's registry (the versions a
/// study's registration made) and what was made through the API, for any run or logged model.
public struct TrackingModel: Sendable, Hashable {
  public var name: String
  public var description: String
  public var creationTime: Int64
  public var lastUpdateTime: Int64
  public var tags: [String: String]
  /// By version number.
  public var versions: [RegistryVersion]
  /// Alias → version.
  public var aliases: [String: Int]
  /// Whether hpod's studies registered versions of it (the model a spec's `registration` names).
  public var holdsHpodVersions: Bool { versions.contains { $0.hpodVersion != nil } }
}

/// One version of a registered model, as MLflow's `ModelVersion` shows it.
public struct RegistryVersion: Sendable, Hashable {
  public var modelName: String
  public var version: Int
  /// The run it came from, `""` when none (a logged model without a run).
  public var runId: String
  /// What the version was registered from (`runs:/<run>/<path>`, `models:/m-<id>`, an
  /// artifact URI), as MLflow keeps it.
  public var source: String
  /// Where its files are (what `get-download-uri` answers): an `mlflow-artifacts:` URI, or
  /// the source when that is a `runs:/` URI (the client resolves it).
  public var storageLocation: String
  /// The logged model it is (`m-<id>`), if any.
  public var modelId: String?
  public var description: String
  /// MLflow's (deprecated) stages: `None`, `Staging`, `Production`, `Archived`.
  public var stage: String
  public var creationTime: Int64
  public var lastUpdateTime: Int64
  public var tags: [String: String]
  /// The version in hpod's registry, when a study registered it (or it was made of a trial's
  /// run through the API).
  public var hpodVersion: ModelVersion?
  /// The model's aliases naming it.
  public var aliases: [String] = []

  public static let stages = ["None", "Staging", "Production", "Archived"]
  /// A deleted version keeps its number (MLflow never gives one again), under this stage.
  static let deletedStage = "Deleted_Internal"

  /// MLflow's canonical spelling of a stage name given in any case (`production`), if it is one.
  public static func stage(_ text: String) -> String? {
    stages.first { $0.lowercased() == text.lowercased() }
  }
}
