import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingBridge

/// MLflow's JSON shapes (its protos in JSON form) for what the tracking store holds.
enum MLflowJSON {
  static func experiment(_ experiment: TrackingExperiment) -> [String: Any] {
    [
      "experiment_id": String(experiment.id), "name": experiment.name,
      "artifact_location": "mlflow-artifacts:/\(experiment.id)", "lifecycle_stage": experiment.lifecycleStage,
      "creation_time": experiment.creationTime, "last_update_time": experiment.lastUpdateTime,
      "tags": keyValues(experiment.tags),
    ]
  }

  static func runInfo(_ run: TrackingRun) -> [String: Any] {
    var info: [String: Any] = [
      "run_id": run.runId, "run_uuid": run.runId, "run_name": run.name, "experiment_id": String(run.experimentId),
      "user_id": run.userId, "status": run.status, "artifact_uri": run.artifactURI,
      "lifecycle_stage": run.lifecycleStage,
    ]
    if let start = run.startTime { info["start_time"] = start }
    if let end = run.endTime { info["end_time"] = end }
    return info
  }

  static func run(_ run: TrackingRun) -> [String: Any] {
    [
      "info": runInfo(run),
      "data": [
        "metrics": run.metrics.values.sorted { $0.key < $1.key }.map(metric),
        "params": keyValues(run.params), "tags": keyValues(run.tags),
      ] as [String: Any],
      "inputs": [String: Any](),
    ]
  }

  static func metric(_ metric: TrackingMetric) -> [String: Any] {
    ["key": metric.key, "value": metric.value, "timestamp": metric.timestamp, "step": metric.step]
  }

  static func keyValues(_ pairs: [String: String]) -> [[String: String]] {
    pairs.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
  }

  static func response(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Response(
      status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  /// `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}`, as MLflow answers.
  static func error(_ error: TrackingError) -> Response {
    response(
      ["error_code": error.code.rawValue, "message": error.message],
      status: HTTPResponse.Status(code: error.httpStatus))
  }
}
