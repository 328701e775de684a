import Foundation
import TrackingBridge

/// An exclusive lock on a study's name for the life of this process, so two `hpod run` of the
/// same spec never create the study twice (the study's own lease guards its trials once it
/// exists). The kernel drops it if hpod dies.
struct StudyLock {
  private let lock: FileLock

  struct Busy: Error, CustomStringConvertible {
    var path: String
    var description: String {
      "another hpod is already running this study (lock \(path)); wait for it or stop it first"
    }
  }

  init(path: String) throws {
    guard let lock = try FileLock.tryLock(path, probed: true) else { throw Busy(path: path) }
    self.lock = lock
  }

  func release() { lock.release() }
}
