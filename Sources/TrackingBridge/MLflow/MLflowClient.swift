import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A failed call to an MLflow tracking server, split by what to do about it.
struct MLflowError: Error, CustomStringConvertible {
  enum Kind {
    /// No answer (connection refused, timeout, reset): try again later.
    case unreachable
    /// The server answered 5xx or 429: try again later.
    case unavailable
    /// The server refused the request (4xx): sending it again would not help.
    case refused
  }

  var kind: Kind
  /// MLflow's `error_code`, e.g. `RESOURCE_ALREADY_EXISTS`.
  var code: String?
  var message: String

  var isRetryable: Bool { kind != .refused }
  var description: String { code.map { "\($0): \(message)" } ?? message }
}

/// The parts of MLflow's REST API (2.0) the mirror uses, over URLSession.
///
/// Quirks handled here: an empty result comes back without its array key (decoded as
/// optional), ids and versions are strings, and a non-finite metric is sent as "NaN".
struct MLflowClient: Sendable {
  let baseURL: URL
  let session: URLSession
  /// The Authorization header MLflow's own client would send: MLFLOW_TRACKING_TOKEN (bearer),
  /// or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (basic), from hpod's environment.
  let authorization: String?

  init(uri: String, timeout: TimeInterval, environment: [String: String] = ProcessInfo.processInfo.environment) {
    var text = uri
    while text.hasSuffix("/") { text.removeLast() }
    baseURL = URL(string: text) ?? URL(string: "http://127.0.0.1:5000")!
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.httpMaximumConnectionsPerHost = 4
    session = URLSession(configuration: configuration)
    if let token = environment["MLFLOW_TRACKING_TOKEN"], !token.isEmpty {
      authorization = "Bearer \(token)"
    } else if let user = environment["MLFLOW_TRACKING_USERNAME"], let password = environment["MLFLOW_TRACKING_PASSWORD"]
    {
      authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    } else {
      authorization = nil
    }
  }

  func invalidate() {
    session.finishTasksAndInvalidate()
  }

  // MARK: Experiments

  /// The experiment's id, created if no experiment has the name. A deleted one is refused:
  /// runs cannot be added to it.
  func experimentId(named name: String) async throws -> String {
    struct Found: Decodable {
      struct Experiment: Decodable {
        var experiment_id: String
        var lifecycle_stage: String?
      }
      var experiment: Experiment
    }
    struct Created: Decodable { var experiment_id: String }
    do {
      let found: Found = try await get(
        "api/2.0/mlflow/experiments/get-by-name", query: [URLQueryItem(name: "experiment_name", value: name)])
      guard found.experiment.lifecycle_stage != "deleted" else {
        throw MLflowError(
          kind: .refused, code: "INVALID_STATE",
          message:
            "the MLflow experiment '\(name)' is deleted; restore it in MLflow or set tracking.experiment to another name"
        )
      }
      return found.experiment.experiment_id
    } catch let error as MLflowError where error.code == "RESOURCE_DOES_NOT_EXIST" {
      do {
        let created: Created = try await post("api/2.0/mlflow/experiments/create", ["name": name])
        return created.experiment_id
      } catch let error as MLflowError where error.code == "RESOURCE_ALREADY_EXISTS" {
        // Created by someone else in between.
        return try await experimentId(named: name)
      }
    }
  }

  // MARK: Runs

  struct RunInfo: Decodable {
    var run_id: String
    var artifact_uri: String
  }

  func createRun(experimentId: String, name: String, startTime: Int64, tags: [(String, String)]) async throws
    -> RunInfo
  {
    struct Body: Encodable {
      var experiment_id: String
      var run_name: String
      var start_time: Int64
      var tags: [KeyValue]
    }
    struct Answer: Decodable {
      struct Run: Decodable { var info: RunInfo }
      var run: Run
    }
    let answer: Answer = try await post(
      "api/2.0/mlflow/runs/create",
      Body(
        experiment_id: experimentId, run_name: name, start_time: startTime,
        tags: tags.map { KeyValue(key: $0.0, value: $0.1) }))
    return answer.run.info
  }

  /// The run tagged `key = value` in the experiment, if there is one.
  func findRun(experimentId: String, tag key: String, equals value: String) async throws -> RunInfo? {
    struct Body: Encodable {
      var experiment_ids: [String]
      var filter: String
      var max_results: Int
    }
    struct Answer: Decodable {
      struct Run: Decodable { var info: RunInfo }
      var runs: [Run]?
    }
    let escaped = value.replacingOccurrences(of: "'", with: "\\'")
    let answer: Answer = try await post(
      "api/2.0/mlflow/runs/search",
      Body(experiment_ids: [experimentId], filter: "tags.`\(key)` = '\(escaped)'", max_results: 1))
    return answer.runs?.first?.info
  }

  /// A tag of a run on the server; nil when the run has none.
  func runTag(runId: String, key: String) async throws -> String? {
    struct Answer: Decodable {
      struct Run: Decodable {
        struct Data: Decodable { var tags: [KeyValue]? }
        var data: Data
      }
      var run: Run
    }
    let answer: Answer = try await get("api/2.0/mlflow/runs/get", query: [URLQueryItem(name: "run_id", value: runId)])
    return answer.run.data.tags?.last { $0.key == key }?.value
  }

  /// One log-batch call; the caller keeps it within `MLflowLimits`.
  func logBatch(
    runId: String, metrics: [MetricPoint] = [], params: [(String, String)] = [], tags: [(String, String)] = []
  )
    async throws
  {
    struct Body: Encodable {
      var run_id: String
      var metrics: [Metric]
      var params: [KeyValue]
      var tags: [KeyValue]
    }
    let body = Body(
      run_id: runId,
      metrics: metrics.map {
        Metric(key: MLflowLimits.key($0.name), value: $0.value, timestamp: $0.timestamp, step: $0.step)
      },
      params: params.map { KeyValue(key: $0.0, value: $0.1) }, tags: tags.map { KeyValue(key: $0.0, value: $0.1) })
    let _: Empty = try await post("api/2.0/mlflow/runs/log-batch", body)
  }

  func endRun(runId: String, status: String, endTime: Int64) async throws {
    struct Body: Encodable {
      var run_id: String
      var status: String
      var end_time: Int64
    }
    let _: Empty = try await post(
      "api/2.0/mlflow/runs/update", Body(run_id: runId, status: status, end_time: endTime))
  }

  /// Uploads a file through the server's artifact proxy (`mlflow server --serve-artifacts`,
  /// the default). `path` is relative to the proxy's root, e.g. `1/<run>/artifacts/model.npz`.
  func uploadArtifact(path: String, file: URL) async throws {
    // Percent-encoded once, segment by segment: a file named "my model#1?.npz" keeps its name.
    let segmentAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))
    let encoded = path.split(separator: "/").map {
      $0.addingPercentEncoding(withAllowedCharacters: segmentAllowed) ?? String($0)
    }.joined(separator: "/")
    var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)!
    components.percentEncodedPath = components.percentEncodedPath + "/api/2.0/mlflow-artifacts/artifacts/" + encoded
    var request = URLRequest(url: components.url!)
    request.httpMethod = "PUT"
    request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
    let _: Empty = try await send(request, file: file)
  }

  // MARK: Model registry

  func createRegisteredModel(name: String) async throws {
    do {
      let _: Empty = try await post("api/2.0/mlflow/registered-models/create", ["name": name])
    } catch let error as MLflowError where error.code == "RESOURCE_ALREADY_EXISTS" {}
  }

  struct ModelVersionInfo: Decodable {
    var version: String
    var tags: [KeyValue]?
  }

  func modelVersions(name: String, runId: String) async throws -> [ModelVersionInfo] {
    struct Answer: Decodable { var model_versions: [ModelVersionInfo]? }
    let escapedName = name.replacingOccurrences(of: "'", with: "\\'")
    let answer: Answer = try await get(
      "api/2.0/mlflow/model-versions/search",
      query: [URLQueryItem(name: "filter", value: "name='\(escapedName)' and run_id='\(runId)'")])
    return answer.model_versions ?? []
  }

  func createModelVersion(name: String, source: String, runId: String, tags: [(String, String)], description: String)
    async throws -> String
  {
    struct Body: Encodable {
      var name: String
      var source: String
      var run_id: String
      var tags: [KeyValue]
      var description: String
    }
    struct Answer: Decodable { var model_version: ModelVersionInfo }
    let answer: Answer = try await post(
      "api/2.0/mlflow/model-versions/create",
      Body(
        name: name, source: source, run_id: runId, tags: tags.map { KeyValue(key: $0.0, value: $0.1) },
        description: description))
    return answer.model_version.version
  }

  func setAlias(model: String, alias: String, version: String) async throws {
    let _: Empty = try await post(
      "api/2.0/mlflow/registered-models/alias", ["name": model, "alias": alias, "version": version])
  }

  // MARK: Transport

  struct KeyValue: Codable {
    var key: String
    var value: String
  }

  struct Metric: Encodable {
    var key: String
    var value: Double
    var timestamp: Int64
    var step: Int

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(key, forKey: .key)
      // MLflow takes NaN and the infinities only as strings.
      if value.isFinite {
        try container.encode(value, forKey: .value)
      } else {
        try container.encode(value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity", forKey: .value)
      }
      try container.encode(timestamp, forKey: .timestamp)
      try container.encode(step, forKey: .step)
    }

    enum CodingKeys: String, CodingKey { case key, value, timestamp, step }
  }

  struct Empty: Decodable {}

  /// Only MLflow itself saying the write is wrong sets it aside for good. Anything else, a
  /// 401/403 of an expired token, a proxy's 404 or 413, a 5xx or 429, may pass once the
  /// setting or the server is fixed, so the write waits and is retried.
  static func isRefusal(status: Int, code: String?) -> Bool {
    guard (400..<500).contains(status), ![401, 403, 408, 429].contains(status) else { return false }
    return ["INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "INVALID_STATE", "RESOURCE_ALREADY_EXISTS"]
      .contains(code ?? "")
  }

  /// MLflow's error body.
  struct Failure: Decodable {
    var error_code: String?
    var message: String?
  }

  private func post<Answer: Decodable>(_ path: String, _ body: some Encodable) async throws -> Answer {
    var request = URLRequest(url: baseURL.appendingPathComponent(path))
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    let encoder = JSONEncoder()
    // A diverged loss reaches MLflow as it takes it: "NaN", "Infinity", "-Infinity".
    encoder.nonConformingFloatEncodingStrategy = JSONCoding.nonFinite
    return try await send(request, body: try encoder.encode(body))
  }

  private func get<Answer: Decodable>(_ path: String, query: [URLQueryItem]) async throws -> Answer {
    var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
    components.queryItems = query
    return try await send(URLRequest(url: components.url!), body: nil)
  }

  private func send<Answer: Decodable>(_ request: URLRequest, body: Data? = nil, file: URL? = nil) async throws
    -> Answer
  {
    var request = request
    request.httpBody = body
    if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
    let (data, response): (Data, URLResponse)
    do {
      if let file {
        (data, response) = try await session.upload(for: request, fromFile: file)
      } else {
        (data, response) = try await session.data(for: request)
      }
    } catch let error as CocoaError {
      throw MLflowError(kind: .unavailable, code: nil, message: "cannot read \(file?.path ?? "the file"): \(error)")
    } catch {
      throw MLflowError(
        kind: .unreachable, code: nil,
        message: "MLflow at \(baseURL.absoluteString) did not answer: \(error.localizedDescription)")
    }
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard (200..<300).contains(status) else {
      let failure = try? JSONDecoder().decode(Failure.self, from: data)
      let text = failure?.message ?? String(decoding: data.prefix(300), as: UTF8.self)
      throw MLflowError(
        kind: Self.isRefusal(status: status, code: failure?.error_code) ? .refused : .unavailable,
        code: failure?.error_code,
        message: "\(request.httpMethod ?? "GET") \(request.url?.path ?? "") answered \(status): \(text)")
    }
    if Answer.self == Empty.self { return Empty() as! Answer }
    do {
      return try JSONDecoder().decode(Answer.self, from: data)
    } catch {
      throw MLflowError(
        kind: .unavailable, code: nil,
        message:
          "unexpected answer from \(request.url?.path ?? ""): \(String(decoding: data.prefix(300), as: UTF8.self))")
    }
  }
}
