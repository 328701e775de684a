import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Follows a file another machine writes (a Slurm job's stdout on a shared folder): each read
/// re-opens it, reads what was added since the last read, and hands back the reported lines
/// it completed. A partial last line waits for its newline; a file that shrank was truncated
/// (the job started again) and is read from its start.
struct OutputTail: Sendable {
  let path: String
  /// Where the next read starts.
  private var position: Int64
  private var splitter: ReportLineSplitter
  /// At most this much is read per call, so one huge burst cannot take all memory.
  static let chunkLimit = 8 << 20

  init(path: String, offset: Int64, prefix: String) {
    self.path = path
    position = offset
    splitter = ReportLineSplitter(prefix: prefix)
  }

  /// The end of the last complete line read: where a later reader resumes without loss or
  /// repetition.
  var lineBoundary: Int64 { position - Int64(splitter.unterminatedBytes) }

  /// Reads what was added; `final` also hands back a last line without a newline.
  mutating func read(final: Bool = false) -> (lines: [String], truncated: Bool) {
    var lines: [String] = []
    var truncated = false
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
      defer { close(fd) }
      var info = stat()
      if fstat(fd, &info) == 0, Int64(info.st_size) < position {
        truncated = true
        position = 0
        splitter.reset()
      }
      var buffer = [UInt8](repeating: 0, count: 64 * 1024)
      var total = 0
      while total < Self.chunkLimit {
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
        guard n > 0 else { break }
        position += Int64(n)
        total += n
        lines += buffer.withUnsafeBytes { splitter.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      }
    }
    if final, let last = splitter.finish() { lines.append(last) }
    return (lines, truncated)
  }
}
