import Foundation
import HPODAPI
import TrialScheduler

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Talks to `hpod serve` over its JSON API (docs/API.md).
struct HPODClient: Sendable {
  let server: URL
  let token: String?

  /// A failure a user can act on: the daemon's own message (with a spec's located issues), or
  /// why the daemon could not be reached.
  struct Failure: Error, CustomStringConvertible {
    var status: Int?
    var message: String
    var issues: [API.Issue] = []
    /// No daemon answered at all (nothing listens there, or the host is unknown).
    var unreachable = false

    var description: String {
      ([message] + issues.map { "  \($0)" }).joined(separator: "\n")
    }
  }

  func request(
    _ method: String, _ path: String, query: String? = nil, body: Data? = nil, headers: [String: String] = [:]
  )
    -> URLRequest
  {
    var components = URLComponents(url: server.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
    components.percentEncodedQuery = query
    var request = URLRequest(url: components.url!)
    request.httpMethod = method
    request.httpBody = body
    request.timeoutInterval = 60
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
    return request
  }

  /// Sends a request and returns the body of a 2xx answer.
  func send(_ method: String, _ path: String, query: String? = nil, body: Data? = nil, headers: [String: String] = [:])
    async throws -> Data
  {
    let (data, response): (Data, URLResponse)
    do {
      (data, response) = try await URLSession.shared.data(
        for: request(method, path, query: query, body: body, headers: headers))
    } catch {
      throw Failure(
        message:
          "cannot reach hpod at \(server.absoluteString): \(error.localizedDescription). Is `hpod serve` running? (--server or HPOD_SERVER name another one)",
        unreachable: true)
    }
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard (200..<300).contains(status) else {
      if let error = try? JSONDecoder().decode(API.ErrorBody.self, from: data) {
        throw Failure(status: status, message: error.error.message, issues: error.error.issues ?? [])
      }
      throw Failure(
        status: status, message: "hpod answered \(status): \(String(decoding: data.prefix(500), as: UTF8.self))")
    }
    return data
  }

  func get<T: Decodable>(_ path: String, as type: T.Type = T.self) async throws -> T {
    try API.decoder.decode(T.self, from: try await send("GET", path))
  }

  func post<T: Decodable>(_ path: String, body: Data? = nil, headers: [String: String] = [:], as type: T.Type = T.self)
    async throws -> T
  {
    try API.decoder.decode(T.self, from: try await send("POST", path, body: body, headers: headers))
  }

  /// Follows a server-sent event stream until it ends or `handle` returns false.
  func events(_ path: String, handle: @escaping @Sendable (API.Event) -> Bool) async throws {
    try await EventStream(url: server.appendingPathComponent(path), token: token).follow(handle)
  }
}
