public import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif
#if canImport(Glibc)
  import Glibc
#endif

/// A real MLflow tracking server (from `make mlflow`'s .venv/mlflow) on a free loopback port,
/// with its own SQLite backend and artifact folder, started in its own process group and
/// stopped by it. Restarting keeps its data and port, as a server restart in production does.
/// Shared by every test target that needs a real MLflow (the mirror's, the scheduler's, hpod's).
public final class MLflowServer: @unchecked Sendable {
  public let root: String
  public let port: Int
  private var process: Process?

  public var uri: String { "http://127.0.0.1:\(port)" }

  public static var executable: String {
    if let path = ProcessInfo.processInfo.environment["HPOD_MLFLOW"], !path.isEmpty { return path }
    // Tests/Support/MLflowTestServer/MLflowServer.swift → the package root.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".venv/mlflow/bin/mlflow").path
  }

  public static func start(in root: String) async throws -> MLflowServer {
    let server = MLflowServer(root: root, port: try freePort())
    try await server.launch()
    return server
  }

  private init(root: String, port: Int) {
    self.root = root
    self.port = port
  }

  private func launch() async throws {
    guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
      Issue.record("MLflow is not installed at \(Self.executable): run `make mlflow` (make test does)")
      throw CancellationError()
    }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    var environment = ProcessInfo.processInfo.environment
    environment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    process = try Self.launchGroup(
      [
        Self.executable, "server", "--backend-store-uri", "sqlite:///\(root)/mlflow.db",
        "--artifacts-destination", "\(root)/artifacts", "--host", "127.0.0.1", "--port", String(port),
        "--workers", "1",
      ], in: root, environment: environment, logs: "server")
    let deadline = ContinuousClock.now + .seconds(90)
    while ContinuousClock.now < deadline {
      if let (status, _) = try? await request("GET", "/health"), status == 200 { return }
      try await Task.sleep(for: .milliseconds(250))
    }
    kill()
    Issue.record("MLflow did not answer /health within 90 s; its log: \(root)/server.err")
    throw CancellationError()
  }

  /// Starts `argv`, its output in `<logs>.out` and `<logs>.err` under `folder`. Foundation
  /// makes the child the leader of a process group of its own, which its workers join.
  private static func launchGroup(
    _ argv: [String], in folder: String, environment: [String: String], logs: String
  ) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    process.environment = environment
    for (name, set) in [("out", { process.standardOutput = $0 }), ("err", { process.standardError = $0 })] {
      let path = "\(folder)/\(logs).\(name)"
      FileManager.default.createFile(atPath: path, contents: nil)
      set(FileHandle(forWritingAtPath: path))
    }
    try process.run()
    return process
  }

  /// Kills the server's whole process group and waits for it to be gone.
  public func stop() async {
    guard let process else { return }
    kill()
    while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    self.process = nil
  }

  /// SIGKILL to the server's group now, without waiting: for `defer`, so a failing test
  /// leaves no server behind.
  public func kill() {
    guard let process, process.processIdentifier > 0 else { return }
    Glibc.kill(-process.processIdentifier, SIGKILL)
  }

  public func restart() async throws {
    await stop()
    try await launch()
  }

  // MARK: Reading back through MLflow's REST API

  public func get(_ path: String, _ query: [String: String] = [:]) async throws -> [String: Any] {
    var components = URLComponents(string: uri + "/api/2.0/mlflow/" + path)!
    components.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) }
    let (status, body) = try await request(
      "GET", components.url!.absoluteString.replacingOccurrences(of: uri, with: ""))
    #expect(status == 200, "GET \(path): \(String(describing: body))")
    return body
  }

  public func post(_ path: String, _ json: [String: Any]) async throws -> [String: Any] {
    let (status, body) = try await request(
      "POST", "/api/2.0/mlflow/" + path, body: try JSONSerialization.data(withJSONObject: json))
    #expect(status == 200, "POST \(path): \(body)")
    return body
  }

  /// Every run of the experiment matching `filter`, all pages.
  /// The id of the experiment called `name` ("" when there is none).
  public func experimentId(named name: String) async throws -> String {
    let body = try await get("experiments/get-by-name", ["experiment_name": name])
    return (body["experiment"] as? [String: Any])?["experiment_id"] as? String ?? ""
  }

  public func runs(experimentId: String, filter: String = "") async throws -> [[String: Any]] {
    var runs: [[String: Any]] = []
    var token: String?
    repeat {
      var body: [String: Any] = ["experiment_ids": [experimentId], "filter": filter, "max_results": 1000]
      if let token { body["page_token"] = token }
      let page = try await post("runs/search", body)
      runs += page["runs"] as? [[String: Any]] ?? []  // MLflow omits the key when there are none
      token = page["next_page_token"] as? String
    } while token != nil
    return runs
  }

  public func metricHistory(runId: String, key: String) async throws -> [(step: Int, value: Double)] {
    let body = try await get("metrics/get-history", ["run_id": runId, "metric_key": key, "max_results": "25000"])
    return (body["metrics"] as? [[String: Any]] ?? []).map {
      (($0["step"] as? Int) ?? 0, ($0["value"] as? Double) ?? .nan)
    }.sorted { $0.step < $1.step }
  }

  public func artifacts(runId: String, path: String = "") async throws -> [String] {
    let body = try await get("artifacts/list", ["run_id": runId, "path": path])
    var files: [String] = []
    for file in body["files"] as? [[String: Any]] ?? [] {
      let name = file["path"] as? String ?? ""
      if file["is_dir"] as? Bool == true {
        files += try await artifacts(runId: runId, path: name)
      } else {
        files.append(name)
      }
    }
    return files.sorted()
  }

  private func request(_ method: String, _ path: String, body: Data? = nil) async throws -> (Int, [String: Any]) {
    var request = URLRequest(url: URL(string: uri + path)!)
    request.httpMethod = method
    request.timeoutInterval = 10
    if let body {
      request.httpBody = body
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
  }

  /// A server that answers 401 to everything, as an MLflow behind auth does to a client
  /// without credentials. Stopped with `kill()`.
  public static func startUnauthorized(in root: String) async throws -> MLflowServer {
    let server = MLflowServer(root: root, port: try freePort())
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let script = """
      import http.server, sys
      class Handler(http.server.BaseHTTPRequestHandler):
          def answer(self):
              self.send_response(401); self.send_header("Content-Length", "12"); self.end_headers()
              self.wfile.write(b"Unauthorized")
          do_GET = do_POST = do_PUT = answer
      http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
      """
    server.process = try launchGroup(
      ["python3", "-c", script, String(server.port)], in: root, environment: ProcessInfo.processInfo.environment,
      logs: "401")
    for _ in 0..<100 {
      if let (status, _) = try? await server.request("GET", "/health"), status == 401 { return server }
      try await Task.sleep(for: .milliseconds(50))
    }
    server.kill()
    throw ServerError("the 401 server did not start")
  }

  /// A port nobody listens on now (bound to 0, read back, released).
  public static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard bound else { throw ServerError("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}

/// Why a test server could not be started.
public struct ServerError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}

extension [String: Any] {
  /// MLflow's `[{key, value}]` lists (tags, params) as a dictionary.
  public func keyValues(_ field: String) -> [String: String] {
    let data = self["data"] as? [String: Any] ?? [:]
    let list = data[field] as? [[String: Any]] ?? []
    let pairs: [(String, String)] = list.map { entry in
      (entry["key"] as? String ?? "", entry["value"].map { "\($0)" } ?? "")
    }
    return [String: String](pairs, uniquingKeysWith: { $1 })
  }

  public var info: [String: Any] { self["info"] as? [String: Any] ?? [:] }
}
