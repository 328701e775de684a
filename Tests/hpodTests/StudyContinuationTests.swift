import Foundation
import Testing
import TrackingBridge

/// `hpod run` on an edited spec continues the study of that name, as Optuna's
/// `load_if_exists` does, and refuses an edit that changes what its trials measure.
@Suite("Studies continue", .serialized)
struct StudyContinuationTests {
  let folder: String

  init() throws {
    folder = try makeTestFolder("hpod-continue")
    try "#!/bin/sh\necho \"hpod {\\\"score\\\": $1}\"\n"
      .write(toFile: "\(folder)/trial.sh", atomically: true, encoding: .utf8)
    chmod("\(folder)/trial.sh", 0o755)
  }

  func spec(maxTrials: Int, xMax: String = "1", registration: String = "") throws -> String {
    let path = "\(folder)/study.yaml"
    try """
    name: growing
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 1, max_trials: \(maxTrials)}
    parameters:
      x: {type: float, min: 0, max: \(xMax)}
    trial: {command: [./trial.sh, "{x}"]}
    \(registration)
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test(
    "more budget runs more trials in the same study; new thresholds judge the runs it has; a changed space is refused with the difference"
  )
  func continuesAndRefuses() async throws {
    let home = "\(folder)/home"
    // Given a study that completed its 3 trials
    let first = try await HPODProcess.run(["run", "--plain", try spec(maxTrials: 3)], home: home)
    #expect(first.status == 0, "\(first.output)")

    // When its budget is raised to 5 and it is run again
    let more = try await HPODProcess.run(["run", "--plain", try spec(maxTrials: 5)], home: home)

    // Then the same study runs 2 more trials and says what carried over and what changed
    #expect(more.status == 0, "\(more.output)")
    #expect(more.output.contains("Continuing study 'growing' (id 1)"), "\(more.output)")
    #expect(more.output.contains("3 trial(s) carried over (3 completed)"), "\(more.output)")
    #expect(more.output.contains("search.max_trials: 3 → 5"), "\(more.output)")
    let database = try AppDatabase.open(at: "\(home)/hpod.sqlite")
    #expect(try database.studies().count == 1)
    #expect(try database.trials(studyId: 1).map(\.number) == [0, 1, 2, 3, 4])
    #expect(try database.study(id: 1)?.state == .completed)

    // When registration thresholds are added, the runs it has are judged by them
    let registration = "registration: {model: grower, when: [\"score >= 0.0\"]}"
    let judged = try await HPODProcess.run(
      ["run", "--plain", try spec(maxTrials: 5, registration: registration)], home: home)
    #expect(judged.status == 0, "\(judged.output)")
    #expect(judged.output.contains("registration: added"), "\(judged.output)")
    #expect(try database.modelVersions(named: "grower").count == 5)
    #expect(try database.trials(studyId: 1).count == 5)

    // When the search space changes, the run is refused with the difference and the choices,
    // and nothing is written
    let changed = try await HPODProcess.run(
      ["run", "--plain", try spec(maxTrials: 8, xMax: "2", registration: registration)], home: home)
    #expect(changed.status == 2, "\(changed.output)")
    #expect(changed.output.contains("parameters.x.max: 1 → 2"), "\(changed.output)")
    #expect(changed.output.contains("hpod run --new study.yaml"), "\(changed.output)")
    #expect(changed.output.contains("warm_start"), "\(changed.output)")
    #expect(try database.studies().count == 1)
    #expect(try database.trials(studyId: 1).count == 5)
  }

  @Test("hpod register STUDY N registers a run by hand: judged by the thresholds, or with --force")
  func registersByHand() async throws {
    let home = "\(folder)/home"
    let registration = "registration: {model: picked, when: [\"score >= 2.0\"]}"
    let run = try await HPODProcess.run(
      ["run", "--plain", try spec(maxTrials: 2, registration: registration)], home: home)
    #expect(run.status == 0, "\(run.output)")
    let database = try AppDatabase.open(at: "\(home)/hpod.sqlite")
    #expect(try database.modelVersions(named: "picked").isEmpty)

    // A run that misses the thresholds is refused, saying why and what to do
    let refused = try await HPODProcess.run(["register", "growing", "1"], home: home)
    #expect(refused.status != 0)
    #expect(refused.output.contains("does not meet the registration thresholds"), "\(refused.output)")
    #expect(refused.output.contains("--force"), "\(refused.output)")
    #expect(try database.modelVersions(named: "picked").isEmpty)
    // A trial the study does not have is named as such
    let missing = try await HPODProcess.run(["register", "growing", "9"], home: home)
    #expect(missing.output.contains("has no trial 9"), "\(missing.output)")

    // With --force it is registered, once
    let forced = try await HPODProcess.run(["register", "growing", "1", "--force"], home: home)
    #expect(forced.status == 0, "\(forced.output)")
    #expect(forced.output.contains("as picked v1"), "\(forced.output)")
    let trial = try #require(try database.trials(studyId: 1).first { $0.number == 1 })
    #expect(try database.modelVersions(named: "picked").map(\.trialId) == [trial.id!])
    let again = try await HPODProcess.run(["register", "growing", "1", "--force"], home: home)
    #expect(again.status != 0)
    #expect(again.output.contains("already"), "\(again.output)")
  }
}
