import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An append-only log that keeps the first `limit` bytes and counts the rest, so a trial that
/// floods its output cannot fill the disk.
final class LogFile {
  private let fd: Int32
  private let limit: Int
  private(set) var written = 0
  private(set) var dropped = 0

  init(path: String, limit: Int) throws(TrialLaunchError) {
    let directory = (path as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TrialLaunchError("cannot create the log file \(path): \(String(cString: strerror(errno)))") }
    self.limit = limit
  }

  func append(_ bytes: UnsafeRawBufferPointer) {
    let room = max(0, limit - written)
    let count = min(room, bytes.count)
    if count > 0, let base = bytes.baseAddress {
      var offset = 0
      while offset < count {
        let n = Glibc.write(fd, base + offset, count - offset)
        if n <= 0 { break }
        offset += n
      }
      written += count
    }
    dropped += bytes.count - count
  }

  /// Notes how much was dropped, then closes the file.
  func close() {
    if dropped > 0 {
      let note = "\n[hpod: log capped at \(limit) bytes; \(dropped) more bytes were dropped]\n"
      _ = note.withCString { Glibc.write(fd, $0, strlen($0)) }
    }
    _ = Glibc.close(fd)
  }
}
