import Foundation
import Testing

/// A full disk must not take cancel and SIGTERM hostage: both answer while the store cannot
/// be written.
@Suite("Reliability: stopping during an outage", .serialized)
struct OutageStopTests {
  static func sh(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    try? process.run()
    process.waitUntilExit()
    return process.terminationStatus
  }

  @Test("while the disk is full, cancel answers within a second and SIGTERM ends the daemon")
  func cancelAndTerminateDuringFullDisk() async throws {
    let folder = try makeTestFolder("hpod-outage-stop")
    let mount = "\(folder)/mnt"
    try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    guard Self.sh("mount -t tmpfs -o size=24m tmpfs \(mount)") == 0 else {
      Issue.record("cannot mount a tmpfs here (the test needs root)")
      return
    }
    defer { _ = Self.sh("umount -l \(mount)") }
    // Two studies whose trials print a point every 50 ms for 20 s
    let first = try writeSlowStudy(
      in: folder, name: "outage-a", trials: 4, steps: 400, pause: "0.05", parallelism: 2, seed: 1)
    let daemon = DaemonProcess(home: "\(mount)/home")
    try await daemon.start()
    defer { daemon.stop() }
    #expect(try await daemon.client(["submit", first]).status == 0)
    #expect(try await waitUntil(seconds: 15) { FileManager.default.fileExists(atPath: "\(mount)/home/runs/1/1") })

    // Given the disk filled until the study pauses
    _ = Self.sh("dd if=/dev/zero of=\(mount)/filler bs=64k 2>/dev/null; sync")
    let port = daemon.port
    let paused = try await waitUntil(seconds: 30) {
      RawConnection.get(port: port, path: "/api/v1/studies/1").response.contains("\"state\":\"paused\"")
    }
    #expect(paused, "the study never paused:\n\(daemon.log.suffix(2000))")

    // When it is cancelled, the answer comes within a second
    let started = Date()
    let connection = try RawConnection(port: daemon.port)
    connection.send("POST /api/v1/studies/1/cancel HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
    let answer = connection.read(until: "}", seconds: 10)
    let elapsed = Date().timeIntervalSince(started)
    #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
    #expect(elapsed < 1, "cancel took \(elapsed) s")
    print("figures: cancel during a full disk answered in \(Int(elapsed * 1000)) ms")

    // and SIGTERM ends the daemon within its trials' grace period (10 s), the disk still full
    let process = try #require(daemon.process)
    let stopStarted = Date()
    process.terminate()
    let exited = try await waitUntil(seconds: 20) { !process.isRunning }
    #expect(exited, "the daemon did not exit on SIGTERM while the disk was full:\n\(daemon.log.suffix(2000))")
    #expect(Date().timeIntervalSince(stopStarted) < 13)
    print(
      "figures: SIGTERM during a full disk: the daemon exited in \(Int(Date().timeIntervalSince(stopStarted) * 1000)) ms"
    )
    if !exited { daemon.kill9() }
  }
}
