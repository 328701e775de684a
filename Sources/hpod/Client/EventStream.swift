import AsyncHTTPClient
import Foundation
import HPODAPI
import NIOCore

/// A study's server-sent event stream, read with AsyncHTTPClient (NIO: no thread or busy
/// poll per stream, unlike Linux's URLSession, and chunked bodies decoded for us); each event
/// is decoded into the API's typed `API.Event`. Events of a type this client does not know (a
/// newer daemon's) are skipped. (mattt/EventSource's parser would do, but that package needs
/// `URLSession.bytes`, which Linux's Foundation lacks.)
struct EventStream: Sendable {
  let url: URL
  let token: String?

  /// Reads events until the stream ends or `handle` returns false.
  func follow(_ handle: @Sendable (API.Event) -> Bool) async throws {
    var request = HTTPClientRequest(url: url.absoluteString)
    request.headers.add(name: "Accept", value: "text/event-stream")
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    let response: HTTPClientResponse
    do {
      // The deadline bounds the answer's head; a followed stream may last as long as its study.
      response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    } catch {
      throw HPODClient.Failure(
        message:
          "cannot reach hpod at \(url.absoluteString): \(error). Is `hpod serve` running? (--server or HPOD_SERVER name another one)"
      )
    }
    guard response.status == .ok else {
      let body = try await response.body.collect(upTo: 1 << 20)
      let message = (try? JSONDecoder().decode(API.ErrorBody.self, from: Data(body.readableBytesView)))?.error.message
      throw HPODClient.Failure(
        status: Int(response.status.code), message: message ?? "hpod answered \(response.status.code)")
    }
    var parser = ServerSentEventParser()
    for try await buffer in response.body {
      for message in parser.consume(buffer.readableBytesView) {
        guard let event = try? API.Event(type: message.type, data: Data(message.data.utf8)) else { continue }
        if !handle(event) { return }
      }
    }
  }
}

/// The text/event-stream format (WHATWG HTML, "Server-sent events"): lines ending in LF, CR
/// or CRLF; `event:` and `data:` fields (data lines joined by LF); a blank line ends an event;
/// lines starting with `:` are comments (the daemon's keep-alives).
struct ServerSentEventParser {
  struct Message: Equatable {
    var type: String
    var data: String
  }

  private var line: [UInt8] = []
  private var lastWasCR = false
  private var type = ""
  private var data: [String] = []

  /// The events that `bytes` completes.
  mutating func consume(_ bytes: some Sequence<UInt8>) -> [Message] {
    var messages: [Message] = []
    for byte in bytes {
      if byte == UInt8(ascii: "\n"), lastWasCR {
        lastWasCR = false
        continue
      }
      lastWasCR = byte == UInt8(ascii: "\r")
      if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
        if let message = endLine() { messages.append(message) }
      } else {
        line.append(byte)
      }
    }
    return messages
  }

  private mutating func endLine() -> Message? {
    defer { line.removeAll(keepingCapacity: true) }
    guard !line.isEmpty else {
      defer {
        type = ""
        data = []
      }
      return data.isEmpty ? nil : Message(type: type.isEmpty ? "message" : type, data: data.joined(separator: "\n"))
    }
    let text = String(decoding: line, as: UTF8.self)
    guard !text.hasPrefix(":") else { return nil }
    var field = Substring(text)
    var value = Substring("")
    if let colon = text.firstIndex(of: ":") {
      field = text[..<colon]
      value = text[text.index(after: colon)...]
      if value.first == " " { value = value.dropFirst() }
    }
    switch field {
    case "event": type = String(value)
    case "data": data.append(String(value))
    default: break
    }
    return nil
  }
}
