import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The right to drain a store's outbox, held by one process at a time (`hpod serve`, an
/// `hpod run`, `hpod tracking sync` may share a store): two drainers would send the same write
/// twice. A non-blocking flock on a file beside the store; the kernel drops it if the holder
/// dies, and another process takes over at its next try.
final class MirrorLease: @unchecked Sendable {
  let path: String
  private var fd: Int32 = -1

  init(path: String) {
    self.path = path
  }

  deinit { release() }

  /// Whether this process holds the lease now (taking it if it is free).
  func tryAcquire() -> Bool {
    if fd >= 0 { return true }
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { return false }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      close(descriptor)
      return false
    }
    fd = descriptor
    return true
  }

  func release() {
    guard fd >= 0 else { return }
    flock(fd, LOCK_UN)
    close(fd)
    fd = -1
  }
}
