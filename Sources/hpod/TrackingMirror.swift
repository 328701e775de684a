import Foundation
import Logging
import TrackingBridge
import TrialScheduler

/// The MLflow mirror of a foreground `hpod run`: made when the spec names a server (or the
/// store still has writes for one), draining while the study runs and flushed before hpod exits.
enum TrackingMirror {
  static func make(spec: StudySpec, database: AppDatabase, home: HpodHome, logger: Logger) throws -> MLflowMirror? {
    guard try spec.tracking.mlflowURI != nil || !database.mirrorTargets().isEmpty else { return nil }
    var mirrorLogger = logger
    mirrorLogger[metadataKey: "component"] = "mlflow"
    return MLflowMirror(database: database, leasePath: home.mirrorLeasePath, logger: mirrorLogger)
  }

  /// Runs `body` with `mirror` draining, then gives it up to 30 s to send what is left of the
  /// study and says what still waits.
  static func draining<T: Sendable>(
    _ mirror: MLflowMirror?, studyId: Int64, database: AppDatabase, _ body: () async throws -> T
  ) async throws -> T {
    guard let mirror else { return try await body() }
    let (result, emptied) = try await mirror.draining {
      let result = try await body()
      return (result, await mirror.flush(studyId: studyId, timeout: .seconds(30)))
    }
    let lastError = await mirror.lastError
    guard !emptied, let waiting = try? database.mirrorBacklog(studyId: studyId), waiting > 0 else { return result }
    FileHandle.standardError.writeText(
      """
      hpod: \(waiting) tracking writes are not in MLflow yet\(lastError.map { " (\($0))" } ?? ""). \
      They are kept in the store and sent by the next `hpod run`, `hpod serve` or `hpod tracking sync`; \
      `hpod tracking status` shows them.

      """)
    return result
  }
}
