public import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// An flock on a file beside the store (created with its folder), held until `release()` or
/// until the process dies: the kernel drops it then, kill -9 included, so no lock of hpod's
/// ever needs cleaning up. Every lock file hpod keeps goes through this type: the study
/// leases, the MLflow mirror's lease, `hpod run`'s lock on a study name and the migrations'.
public final class FileLock: Sendable {
  public let path: String
  private let descriptor: Mutex<Int32>

  private init(path: String, descriptor: Int32) {
    self.path = path
    self.descriptor = Mutex(descriptor)
  }

  deinit { release() }

  /// The lock, taken now; nil when another process holds it.
  ///
  /// `isHeld` probes with a shared lock held for an instant (`hpod status` and the dashboard
  /// probe the study locks of running studies): for a lock that is `probed`, a refusal is
  /// tried twice more, 10 ms apart, before it means another holder, so a probe never makes
  /// `hpod run` think its study is taken.
  public static func tryLock(_ path: String, probed: Bool = false) throws -> FileLock? {
    let fd = try open(path)
    for attempt in 0..<(probed ? 3 : 1) {
      if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, descriptor: fd) }
      if probed, attempt < 2 { usleep(10_000) }
    }
    close(fd)
    return nil
  }

  /// The lock, waiting for whoever holds it.
  public static func lock(_ path: String) throws -> FileLock {
    let fd = try open(path)
    while flock(fd, LOCK_EX) != 0 {
      guard errno == EINTR else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw failure("cannot lock \(path): \(reason)", path: path)
      }
    }
    return FileLock(path: path, descriptor: fd)
  }

  /// Whether some process holds the lock on `path` now (without taking it).
  public static func isHeld(_ path: String) -> Bool {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    // A shared lock that can be taken means no process holds the exclusive one.
    guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return true }
    flock(fd, LOCK_UN)
    return false
  }

  /// Replaces the file's content (who holds it, for the others to read) while holding it.
  public func record(_ data: Data) {
    descriptor.withLock { fd in
      guard fd >= 0 else { return }
      _ = ftruncate(fd, 0)
      _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
  }

  /// Lets the lock go (once; later calls do nothing).
  public func release() {
    descriptor.withLock { fd in
      guard fd >= 0 else { return }
      flock(fd, LOCK_UN)
      close(fd)
      fd = -1
    }
  }

  private static func open(_ path: String) throws -> Int32 {
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure("cannot open \(path): \(String(cString: strerror(errno)))", path: path) }
    return fd
  }

  private static func failure(_ message: String, path: String) -> CocoaError {
    CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: message])
  }
}
