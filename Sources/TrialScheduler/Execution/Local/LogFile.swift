import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An append-only log that keeps the first `limit` bytes and counts the rest, so a trial that
/// floods its output cannot fill the disk. The file is created on the first byte: a trial
/// that prints nothing on a stream leaves no empty file behind (and costs no inode).
final class LogFile {
  private let path: String
  private var fd: Int32 = -1
  private let limit: Int
  private(set) var written = 0
  private(set) var dropped = 0

  init(path: String, limit: Int) throws(TrialLaunchError) {
    let directory = (path as NSString).deletingLastPathComponent
    guard access(directory, W_OK) == 0 else {
      throw TrialLaunchError("cannot write the trial's logs in \(directory): \(String(cString: strerror(errno)))")
    }
    // A log left by an earlier run of this folder must not be mistaken for this run's.
    unlink(path)
    self.path = path
    self.limit = limit
  }

  func append(_ bytes: UnsafeRawBufferPointer) {
    let room = max(0, limit - written)
    let count = min(room, bytes.count)
    if count > 0, let base = bytes.baseAddress, openIfNeeded() {
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

  private func openIfNeeded() -> Bool {
    if fd < 0 { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    return fd >= 0
  }

  /// Notes how much was dropped, then closes the file.
  func close() {
    if dropped > 0, openIfNeeded() {
      let note = "\n[hpod: log capped at \(limit) bytes; \(dropped) more bytes were dropped]\n"
      _ = note.withCString { Glibc.write(fd, $0, strlen($0)) }
    }
    if fd >= 0 { _ = Glibc.close(fd) }
  }
}
