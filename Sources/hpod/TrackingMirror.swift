import Foundation
import Logging
import TrackingBridge
import TrialScheduler

/// The MLflow mirror of a foreground `hpod run`: started when the spec names a server (or the
/// store still has writes for one), flushed before hpod exits.
enum TrackingMirror {
  static func start(spec: StudySpec, database: AppDatabase, home: HpodHome, logger: Logger) async throws
    -> MLflowMirror?
  {
    guard try spec.tracking.mlflowURI != nil || !database.mirrorTargets().isEmpty else { return nil }
    var mirrorLogger = logger
    mirrorLogger[metadataKey: "component"] = "mlflow"
    let mirror = MLflowMirror(database: database, leasePath: home.mirrorLeasePath, logger: mirrorLogger)
    await mirror.start()
    return mirror
  }

  /// Gives the mirror up to 30 s to send what is left, then says what is still waiting.
  static func finish(_ mirror: MLflowMirror, database: AppDatabase) async {
    let emptied = await mirror.flush(timeout: .seconds(30))
    let lastError = await mirror.lastError
    await mirror.stop()
    guard !emptied, let status = try? database.mirrorStatus() else { return }
    let waiting = status.reduce(0) { $0 + $1.backlog }
    FileHandle.standardError.write(
      Data(
        """
        hpod: \(waiting) tracking writes are not in MLflow yet\(lastError.map { " (\($0))" } ?? ""). \
        They are kept in the store and sent by the next `hpod run`, `hpod serve` or `hpod tracking sync`; \
        `hpod tracking status` shows them.

        """.utf8))
  }
}
