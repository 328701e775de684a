import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TrackingBridge

@testable import hpod

/// What hpod's logged-model API refuses and what a refusal leaves behind, over real HTTP to the
/// app on a real store (issue 34).
@Suite("MLflow logged-model guards", .timeLimit(.minutes(2)))
struct MLflowLoggedModelGuardTests {
  static func mlflow(
    _ client: any TestClientProtocol, _ route: String, _ body: [String: Any], _ method: HTTPRequest.Method
  ) async throws -> (status: Int, json: [String: Any]) {
    try await MLflowAPIGuardTests.mlflow(client, route, body, method: method)
  }

  /// A logged model of a run made through the API: (experiment id, run id, model id).
  static func model(_ client: any TestClientProtocol) async throws -> (String, String, String) {
    let (experimentId, runIds) = try await MLflowAPIGuardTests.experiment(client, runs: 1)
    let created = try await mlflow(
      client, "logged-models", ["experiment_id": experimentId, "name": "net", "source_run_id": runIds[0]], .post)
    let info = (created.json["model"] as? [String: Any])?["info"] as? [String: Any]
    return (experimentId, runIds[0], try #require(info?["model_id"] as? String, "\(created)"))
  }

  @Test("a batch naming a model that does not exist is a 404 and writes none of its points; a known one links them")
  func batchWithUnknownModel() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let (_, run, model) = try await Self.model(client)
      let refused = try await Self.mlflow(
        client, "runs/log-batch",
        [
          "run_id": run,
          "metrics": [
            ["key": "loss", "value": 0.5, "timestamp": 1, "step": 0],
            ["key": "loss", "value": 0.4, "timestamp": 2, "step": 1, "model_id": "m-0000"],
          ],
        ], .post)
      #expect(refused.status == 404 && refused.json["error_code"] as? String == "RESOURCE_DOES_NOT_EXIST")
      let history = try await Self.mlflow(client, "metrics/get-history", ["run_id": run, "metric_key": "loss"], .post)
      #expect((history.json["metrics"] as? [Any])?.isEmpty != false, "\(history.json)")

      let linked = try await Self.mlflow(
        client, "runs/log-batch",
        ["run_id": run, "metrics": [["key": "loss", "value": 0.4, "timestamp": 2, "step": 1, "model_id": model]]],
        .post)
      #expect(linked.status == 200)
      let got = try await client.execute(uri: "/api/2.0/mlflow/logged-models/\(model)", method: .get) {
        try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any] ?? [:]
      }
      let metrics = ((got["model"] as? [String: Any])?["data"] as? [String: Any])?["metrics"] as? [[String: Any]]
      #expect(metrics?.map { $0["run_id"] as? String } == [run], "\(got)")
    }
  }

  @Test("a model's artifacts go through the proxy under <experiment>/models/<id>/artifacts, inside its folder only")
  func modelArtifacts() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let (experimentId, _, model) = try await Self.model(client)
      let base = "/api/2.0/mlflow-artifacts/artifacts/\(experimentId)/models/\(model)/artifacts"
      func call(_ uri: String, _ method: HTTPRequest.Method, _ text: String = "") async throws -> (Int, String) {
        try await client.execute(uri: uri, method: method, body: ByteBuffer(string: text)) {
          (Int($0.status.code), String(buffer: $0.body))
        }
      }
      #expect(try await call("\(base)/MLmodel", .put, "flavors: {}").0 == 200)
      #expect(try await call("\(base)/data/model.pkl", .put, "weights").0 == 200)
      #expect(
        try String(contentsOfFile: "\(daemon.folder)/home/logged-models/\(model)/artifacts/MLmodel", encoding: .utf8)
          == "flavors: {}")
      #expect(try await call("\(base)/MLmodel", .get) == (200, "flavors: {}"))
      let listing = try await call(
        "/api/2.0/mlflow/logged-models/\(model)/artifacts/directories?artifact_directory_path=data", .get)
      #expect(listing.0 == 200 && listing.1.contains("\"data/model.pkl\""), "\(listing)")
      // And MLflow's UI download of one file of it
      let file = try await call(
        "/ajax-api/2.0/mlflow/logged-models/\(model)/artifacts/files?artifact_file_path=data/model.pkl", .get)
      #expect(file == (200, "weights"))
      let escape = try await call(
        "/ajax-api/2.0/mlflow/logged-models/\(model)/artifacts/files?artifact_file_path=../../hpod.sqlite", .get)
      #expect(escape.0 == 400, "\(escape)")
      // Out of the model's folder, or under another experiment: refused
      #expect(try await call("\(base)/../../other/artifacts/x", .put, "x").0 == 400)
      #expect(try await call("/api/2.0/mlflow-artifacts/artifacts/0/models/\(model)/artifacts/MLmodel", .get).0 == 404)
      #expect(
        try await call("/api/2.0/mlflow-artifacts/artifacts/\(experimentId)/models/m-0000/artifacts/x", .get).0 == 404)
    }
  }

  @Test("log-inputs over MLflow's dataset limits is a 400 and records nothing")
  func datasetLimits() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let (_, run, _) = try await Self.model(client)
      let dataset: [String: Any] = [
        "name": "train", "digest": String(repeating: "d", count: 37), "source_type": "local", "source": "/x",
      ]
      let refused = try await Self.mlflow(
        client, "runs/log-inputs", ["run_id": run, "datasets": [["dataset": dataset]]], .post)
      #expect(refused.status == 400 && (refused.json["message"] as? String)?.contains("digest") == true, "\(refused)")
      let got = try await Self.mlflow(client, "runs/get", ["run_id": run], .post)
      let inputs = (got.json["run"] as? [String: Any])?["inputs"] as? [String: Any]
      #expect(inputs?.isEmpty == true, "\(got.json)")
    }
  }
}
