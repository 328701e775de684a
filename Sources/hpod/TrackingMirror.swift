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

  /// Gives the mirror up to 30 s to send what is left of the study, then says what still waits.
  static func finish(_ mirror: MLflowMirror, studyId: Int64, database: AppDatabase) async {
    let emptied = await mirror.flush(studyId: studyId, timeout: .seconds(30))
    let lastError = await mirror.lastError
    await mirror.stop()
    guard !emptied, let waiting = try? database.mirrorBacklog(studyId: studyId), waiting > 0 else { return }
    FileHandle.standardError.write(
      Data(
        """
        hpod: \(waiting) tracking writes are not in MLflow yet\(lastError.map { " (\($0))" } ?? ""). \
        They are kept in the store and sent by the next `hpod run`, `hpod serve` or `hpod tracking sync`; \
        `hpod tracking status` shows them.

        """.utf8))
  }
}
