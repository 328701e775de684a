public import Foundation

/// Where hpod keeps its state: `$HPOD_HOME`, or `~/.hpod`.
///
///     hpod.sqlite                      the store (studies, trials, metrics)
///     runs/<study id>/<trial number>/  one folder per trial:
///         params.json  stdout.log  stderr.log  artifacts/
///     locks/                           one lock file per study being run
public struct HpodHome: Sendable, Hashable {
  public var path: String

  public init(path: String) {
    self.path = path
  }

  /// `$HPOD_HOME` when set, else `~/.hpod`.
  public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> HpodHome
  {
    if let home = environment["HPOD_HOME"], !home.isEmpty {
      return HpodHome(path: URL(fileURLWithPath: home).standardized.path)
    }
    return HpodHome(path: FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".hpod").path)
  }

  public var databasePath: String { "\(path)/hpod.sqlite" }

  public func runDirectory(studyId: Int64, trialNumber: Int) -> String {
    "\(path)/runs/\(studyId)/\(trialNumber)"
  }

  public func lockPath(studyName: String) -> String { "\(path)/locks/\(studyName).lock" }
  /// Held by the one hpod process that sends the store's outbox to MLflow.
  public var mirrorLeasePath: String { "\(path)/locks/mlflow-mirror.lock" }
}
