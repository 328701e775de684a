import Foundation
import Testing
import TrackingBridge

/// A trial is named as users see it: its study and its number in the study.
@Suite("One trial identity", .serialized)
struct TrialIdentityTests {
  @Test("hpod logs STUDY N prints that study's trial, and names what is missing")
  func logsByStudyAndNumber() async throws {
    let folder = try makeTestFolder("hpod-identity")
    try "#!/bin/sh\necho \"hello from $HPOD_STUDY trial $HPOD_TRIAL_NUMBER\"\necho 'hpod {\"score\": 1}'\n".write(
      toFile: "\(folder)/trial.sh", atomically: true, encoding: .utf8)
    chmod("\(folder)/trial.sh", 0o755)
    for name in ["first", "second"] {
      try """
      name: \(name)
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial: {command: [./trial.sh]}
      """.write(toFile: "\(folder)/\(name).yaml", atomically: true, encoding: .utf8)
    }
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    #expect(try await daemon.client(["submit", "\(folder)/first.yaml"]).status == 0)
    #expect(try await daemon.client(["submit", "\(folder)/second.yaml"]).status == 0)
    let database = try AppDatabase.open(at: "\(daemon.home)/hpod.sqlite")
    #expect(try await waitUntil(seconds: 60) { try database.studies().allSatisfy { $0.state.isFinished } })

    // Trial 1 of study 2 is the second study's, whatever its database id
    let (status, output) = try await daemon.client(["logs", "2", "1"])
    #expect(status == 0, "\(output)")
    #expect(output.contains("hello from second trial 1"), "\(output)")
    // A number the study does not have is named as such
    let (missing, message) = try await daemon.client(["logs", "1", "7"])
    #expect(missing != 0)
    #expect(message.contains("study 1 has no trial 7"), "\(message)")
  }
}
