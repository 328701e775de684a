import Foundation
import HPODAPI
import Synchronization
import TrialScheduler

#if canImport(Glibc)
  import Glibc
#endif

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
          "cannot reach hpod at \(server.absoluteString): \(error.localizedDescription). Is `hpod serve` running? (--server or HPOD_SERVER name another one)"
      )
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
    let stream = ServerSentEvents(url: server.appendingPathComponent(path), token: token)
    for try await event in stream.events() {
      if !handle(event) { break }
    }
  }
}

/// A server-sent event stream over a plain socket. (Linux's URLSession streams by polling and
/// burns a core; the daemon speaks plain HTTP/1.1, so a blocking reader thread is enough.)
final class ServerSentEvents: Sendable {
  private let url: URL
  private let token: String?

  init(url: URL, token: String?) {
    self.url = url
    self.token = token
  }

  func events() -> AsyncThrowingStream<API.Event, any Error> {
    AsyncThrowingStream { continuation in
      let socket = SocketBox()
      let thread = Thread { [url, token] in
        do {
          try Self.read(url: url, token: token, socket: socket) { continuation.yield($0) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in
        socket.fd.withLock { fd in if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) } }
      }
      thread.start()
    }
  }

  private static func read(url: URL, token: String?, socket: SocketBox, yield: (API.Event) -> Void) throws {
    guard url.scheme == "http", let host = url.host else {
      throw HPODClient.Failure(message: "the event stream needs an http:// server URL, found \(url.absoluteString)")
    }
    let port = url.port ?? 80
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var info: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else {
      throw HPODClient.Failure(message: "cannot resolve \(host)")
    }
    defer { freeaddrinfo(info) }
    let fd = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
    guard fd >= 0, connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
      if fd >= 0 { close(fd) }
      throw HPODClient.Failure(
        message:
          "cannot reach hpod at \(url.scheme!)://\(host):\(port): \(String(cString: strerror(errno))). Is `hpod serve` running?"
      )
    }
    socket.fd.withLock { $0 = fd }
    defer {
      socket.fd.withLock { $0 = -1 }
      close(fd)
    }
    var head =
      "GET \(url.path.isEmpty ? "/" : url.path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAccept: text/event-stream\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\n" }
    head += "\r\n"
    _ = head.withCString { send(fd, $0, strlen($0), 0) }

    var reader = LineReader(fd: fd)
    guard let statusLine = reader.line(),
      let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { throw HPODClient.Failure(message: "hpod closed the event stream before answering") }
    var chunked = false
    while let line = reader.line(), !line.isEmpty {
      if line.lowercased().hasPrefix("transfer-encoding:"), line.lowercased().contains("chunked") { chunked = true }
    }
    guard status == 200 else {
      let body = reader.rest()
      let message = (try? JSONDecoder().decode(API.ErrorBody.self, from: Data(body.utf8)))?.error.message
      throw HPODClient.Failure(status: status, message: message ?? "hpod answered \(status)")
    }
    var block = ""
    var decoder = ChunkedBody(chunked: chunked)
    while let bytes = reader.chunk() {
      for line in decoder.lines(from: bytes) {
        if line.isEmpty {
          if let event = parse(block) { yield(event) }
          block = ""
        } else {
          block += line + "\n"
        }
      }
    }
  }

  static func parse(_ block: String) -> API.Event? {
    var type = "message"
    var data = ""
    for line in block.split(separator: "\n") {
      if line.hasPrefix("event:") { type = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
      if line.hasPrefix("data:") { data += line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
    }
    guard !data.isEmpty else { return nil }
    return try? API.Event(type: type, data: Data(data.utf8))
  }
}

/// The socket of a stream, so a consumer that stops listening can shut it down.
final class SocketBox: Sendable {
  let fd = Mutex<Int32>(-1)
}

/// Reads CRLF lines (the response head), then raw chunks, from a socket.
struct LineReader {
  let fd: Int32
  private var buffer: [UInt8] = []

  init(fd: Int32) {
    self.fd = fd
  }

  private mutating func fill() -> Bool {
    var bytes = [UInt8](repeating: 0, count: 16 * 1024)
    let n = recv(fd, &bytes, bytes.count, 0)
    guard n > 0 else { return false }
    buffer += bytes[0..<n]
    return true
  }

  mutating func line() -> String? {
    while true {
      if let index = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        var line = Array(buffer[..<index])
        buffer.removeSubrange(...index)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
      }
      guard fill() else { return nil }
    }
  }

  /// Whatever bytes come next (those already buffered first); nil at the end of the stream.
  mutating func chunk() -> [UInt8]? {
    if buffer.isEmpty, !fill() { return nil }
    defer { buffer.removeAll() }
    return buffer
  }

  mutating func rest() -> String {
    var all: [UInt8] = []
    while let bytes = chunk() { all += bytes }
    return String(decoding: all, as: UTF8.self)
  }
}

/// Undoes chunked transfer encoding and splits the body into lines (without their "\n").
struct ChunkedBody {
  let chunked: Bool
  private var raw: [UInt8] = []
  private var body: [UInt8] = []
  private var remaining = 0  // bytes left in the current chunk

  init(chunked: Bool) {
    self.chunked = chunked
  }

  mutating func lines(from bytes: [UInt8]) -> [String] {
    if chunked {
      raw += bytes
      decode()
    } else {
      body += bytes
    }
    var lines: [String] = []
    while let index = body.firstIndex(of: UInt8(ascii: "\n")) {
      var line = Array(body[..<index])
      body.removeSubrange(...index)
      if line.last == UInt8(ascii: "\r") { line.removeLast() }
      lines.append(String(decoding: line, as: UTF8.self))
    }
    return lines
  }

  private mutating func decode() {
    while !raw.isEmpty {
      if remaining > 0 {
        let take = min(remaining, raw.count)
        body += raw[..<take]
        raw.removeFirst(take)
        remaining -= take
        if remaining == 0 { remaining = -2 }  // the CRLF after the chunk
        continue
      }
      if remaining < 0 {
        let skip = min(-remaining, raw.count)
        raw.removeFirst(skip)
        remaining += skip
        continue
      }
      guard let index = raw.firstIndex(of: UInt8(ascii: "\n")) else { return }
      let sizeLine = String(decoding: raw[..<index], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      raw.removeSubrange(...index)
      remaining = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) ?? 0
      if remaining == 0 { raw.removeAll() }  // the last chunk
    }
  }
}
