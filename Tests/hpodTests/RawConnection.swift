import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A plain TCP connection to the daemon, for clients that misbehave on purpose: ones that
/// never send a request, send it a byte at a time, or stop reading a response. (Sendable: its
/// only state is the descriptor, and each test uses a connection from one thread at a time.)
final class RawConnection: @unchecked Sendable {
  let fd: Int32

  /// Connects to 127.0.0.1:`port`; `receiveBuffer` shrinks the kernel's receive buffer, so
  /// a client that stops reading backs the server up quickly.
  init(port: Int, receiveBuffer: Int32? = nil) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    if var size = receiveBuffer {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let status = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard status == 0 else {
      close(fd)
      throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
    }
  }

  deinit { close(fd) }

  func send(_ text: String) {
    _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
  }

  /// Whether the server closed the connection (a read returns end of file) within `seconds`.
  func closedByServer(within seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    var buffer = [UInt8](repeating: 0, count: 65536)
    while Date() < deadline {
      var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&poller, 1, 100) > 0 else { continue }
      let n = recv(fd, &buffer, buffer.count, 0)
      if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return true }
    }
    return false
  }

  /// Reads until `marker` appears or `seconds` pass; returns everything read.
  func read(until marker: String, seconds: Double) -> String {
    let deadline = Date().addingTimeInterval(seconds)
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    let needle = Data(marker.utf8)
    while Date() < deadline {
      var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&poller, 1, 100) > 0 else { continue }
      let n = recv(fd, &buffer, buffer.count, 0)
      if n <= 0 { break }
      data.append(contentsOf: buffer[0..<n])
      if data.suffix(needle.count + 65536).range(of: needle) != nil { break }
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// One GET with `Connection: close`; returns the status line, the whole response and the
  /// seconds it took.
  static func get(port: Int, path: String, seconds: Double = 10) -> (status: String, response: String, elapsed: Double)
  {
    let started = Date()
    guard let connection = try? RawConnection(port: port) else { return ("connect failed", "", 0) }
    connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    let response = connection.readToEnd(seconds: seconds)
    let status = response.split(separator: "\r\n").first.map(String.init) ?? "no response"
    return (status, response, Date().timeIntervalSince(started))
  }

  /// Reads until the server closes the connection (or `seconds` pass).
  func readToEnd(seconds: Double) -> String { read(until: "\u{0}never\u{0}", seconds: seconds) }
}

/// The resident memory of a process in MB (VmRSS).
func residentMegabytes(of pid: Int32) -> Double {
  let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
  let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
  return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}
