import Foundation
import Testing
import TrackingBridge

#if canImport(Glibc)
  import Glibc
#endif

@Suite("File locks")
struct FileLockTests {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-lock-\(UUID().uuidString)/a/b.lock")
    .path

  @Test("one holder at a time, its folder made; a record for the others; free again once released")
  func oneHolder() throws {
    #expect(!FileLock.isHeld(path))
    let first = try #require(try FileLock.tryLock(path))
    #expect(FileLock.isHeld(path))
    #expect(try FileLock.tryLock(path) == nil)
    first.record(Data("pid 1".utf8))
    #expect(FileManager.default.contents(atPath: path) == Data("pid 1".utf8))
    first.release()
    first.release()
    #expect(!FileLock.isHeld(path))
    let second = try #require(try FileLock.tryLock(path))
    second.release()
  }

  @Test("a waiting lock is granted when the holder lets go")
  func waits() async throws {
    let holder = try #require(try FileLock.tryLock(path))
    let path = path
    let waiter = Task.detached { try FileLock.lock(path) }
    try await Task.sleep(for: .milliseconds(200))
    holder.release()
    let granted = try await waiter.value
    #expect(FileLock.isHeld(path))
    granted.release()
  }

  @Test("a probe of a lock (isHeld's instant shared lock) does not keep a probed lock from its taker")
  func probeDoesNotRefuse() throws {
    // Given a probe's shared lock on the file, let go 5 ms later
    _ = try FileLock.tryLock(path).map { $0.release() }  // makes the file
    let probe = open(path, O_RDONLY | O_CLOEXEC)
    defer { close(probe) }
    #expect(flock(probe, LOCK_SH | LOCK_NB) == 0)
    Thread {
      usleep(5_000)
      flock(probe, LOCK_UN)
    }.start()
    // Then a taker of the probed lock has it once the probe is over, not nil
    let taken = try #require(try FileLock.tryLock(path, probed: true))
    taken.release()
  }

  @Test("a folder that cannot be made is an error naming the path")
  func unwritable() {
    #expect(throws: (any Error).self) { try FileLock.tryLock("/proc/hpod/x.lock") }
  }
}
