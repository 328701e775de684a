import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An exclusive lock on a study for the life of this process, so two `hpod run` of the same
/// study never run its trials twice. The kernel drops it if hpod dies.
struct StudyLock {
  private let fd: Int32

  struct Busy: Error, CustomStringConvertible {
    var path: String
    var description: String {
      "another hpod is already running this study (lock \(path)); wait for it or stop it first"
    }
  }

  init(path: String) throws {
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw Busy(path: path)
    }
  }

  func release() {
    flock(fd, LOCK_UN)
    close(fd)
  }
}
