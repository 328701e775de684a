import Foundation
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

    var description: String {
      ([message] + issues.map { "  \($0.file):\($0.line):\($0.column): \($0.path.isEmpty ? "" : "\($0.path): ")\($0.message)" })
        .joined(separator: "\n")
    }
  }

  func request(_ method: String, _ path: String, query: String? = nil, body: Data? = nil, headers: [String: String] = [:])
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
      throw Failure(message: "cannot reach hpod at \(server.absoluteString): \(error.localizedDescription). Is `hpod serve` running? (--server or HPOD_SERVER name another one)")
    }
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard (200..<300).contains(status) else {
      if let error = try? JSONDecoder().decode(API.ErrorBody.self, from: data) {
        throw Failure(status: status, message: error.error.message, issues: error.error.issues ?? [])
      }
      throw Failure(status: status, message: "hpod answered \(status): \(String(decoding: data.prefix(500), as: UTF8.self))")
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
    let stream = ServerSentEvents(request: request("GET", path))
    for try await event in stream.events() {
      if !handle(event) { break }
    }
  }
}

/// A server-sent event stream read with URLSession's data delegate (Linux's URLSession has
/// no async byte stream).
final class ServerSentEvents: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  private let request: URLRequest
  private var buffer = ""
  private var continuation: AsyncThrowingStream<API.Event, any Error>.Continuation?
  private var status = 0
  private var errorBody = Data()
  private let lock = NSLock()

  init(request: URLRequest) {
    var request = request
    request.timeoutInterval = 3600 * 24
    request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
    self.request = request
  }

  func events() -> AsyncThrowingStream<API.Event, any Error> {
    AsyncThrowingStream { continuation in
      self.continuation = continuation
      let session = URLSession(configuration: .default, delegate: self, delegateQueue: nil)
      let task = session.dataTask(with: request)
      continuation.onTermination = { _ in
        task.cancel()
        session.invalidateAndCancel()
      }
      task.resume()
    }
  }

  func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
  ) {
    lock.withLock { status = (response as? HTTPURLResponse)?.statusCode ?? 0 }
    completionHandler(.allow)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    let events: [API.Event] = lock.withLock {
      guard (200..<300).contains(status) else {
        errorBody.append(data)
        return []
      }
      buffer += String(decoding: data, as: UTF8.self)
      var parsed: [API.Event] = []
      while let end = buffer.range(of: "\n\n") {
        let block = String(buffer[..<end.lowerBound])
        buffer.removeSubrange(..<end.upperBound)
        if let event = Self.parse(block) { parsed.append(event) }
      }
      return parsed
    }
    events.forEach { continuation?.yield($0) }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
    let (status, body) = lock.withLock { (self.status, errorBody) }
    if let error, (error as NSError).code != NSURLErrorCancelled {
      continuation?.finish(throwing: HPODClient.Failure(message: "the event stream broke: \(error.localizedDescription)"))
    } else if !(200..<300).contains(status), status != 0 {
      let message = (try? JSONDecoder().decode(API.ErrorBody.self, from: body))?.error.message ?? "hpod answered \(status)"
      continuation?.finish(throwing: HPODClient.Failure(status: status, message: message))
    } else {
      continuation?.finish()
    }
  }

  static func parse(_ block: String) -> API.Event? {
    var type = "message"
    var data = ""
    for line in block.split(separator: "\n") {
      if line.hasPrefix("event:") { type = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
      if line.hasPrefix("data:") { data += line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
    }
    guard !data.isEmpty, let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(data.utf8)),
      case .number(let study)? = object["study_id"]
    else { return nil }
    return API.Event(type: type, studyId: Int64(study), data: object)
  }
}
