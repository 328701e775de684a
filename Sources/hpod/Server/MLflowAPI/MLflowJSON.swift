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
      "artifact_location": experiment.artifactRoot, "lifecycle_stage": experiment.lifecycleStage,
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
    var answer: [String: Any] = [
      "info": runInfo(run),
      "data": [
        "metrics": run.metrics.values.sorted { $0.key < $1.key }.map(metric),
        "params": keyValues(run.params), "tags": keyValues(run.tags),
      ] as [String: Any],
      "inputs": inputs(run.io),
    ]
    if let outputs = outputs(run.io) { answer["outputs"] = outputs }
    return answer
  }

  static func metric(_ metric: TrackingMetric) -> [String: Any] {
    ["key": metric.key, "value": metric.value, "timestamp": metric.timestamp, "step": metric.step]
  }

  static func keyValues(_ pairs: [String: String]) -> [[String: String]] {
    pairs.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
  }

  static func response(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
    var text = ""
    text.reserveCapacity(4096)
    write(object, to: &text)
    return Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  /// JSON text of the values these shapes hold (strings, whole numbers, doubles, bools,
  /// arrays and dictionaries), written directly: Foundation's JSONSerialization takes ~0.2 s
  /// for a page of 1,000 runs on Linux, this a small part of that.
  static func write(_ value: Any, to text: inout String) {
    switch value {
    case let string as String: writeString(string, to: &text)
    case let number as Int: text += String(number)
    case let number as Int64: text += String(number)
    // Protobuf's JSON, which MLflow's server speaks, writes these as strings.
    case let number as Double:
      text += number.isFinite ? "\(number)" : number.isNaN ? "\"NaN\"" : number > 0 ? "\"Infinity\"" : "\"-Infinity\""
    case let flag as Bool: text += flag ? "true" : "false"
    case let dictionary as [String: Any]:
      text += "{"
      for (index, key) in dictionary.keys.sorted().enumerated() {
        if index > 0 { text += "," }
        writeString(key, to: &text)
        text += ":"
        write(dictionary[key]!, to: &text)
      }
      text += "}"
    case let array as [Any]:
      text += "["
      for (index, item) in array.enumerated() {
        if index > 0 { text += "," }
        write(item, to: &text)
      }
      text += "]"
    default: text += "null"
    }
  }

  static func writeString(_ string: String, to text: inout String) {
    text += "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case _ where scalar.value < 0x20: text += String(format: "\\u%04x", scalar.value)
      default: text.unicodeScalars.append(scalar)
      }
    }
    text += "\""
  }

  /// `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}`, as MLflow answers.
  static func error(_ error: TrackingError) -> Response {
    response(
      ["error_code": error.code.rawValue, "message": error.message],
      status: HTTPResponse.Status(code: error.httpStatus))
  }
}
