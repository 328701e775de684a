import Foundation
import SearchStrategies
import SlurmTestCluster
import StudyModel
import Testing
import TrackingBridge

@testable import TrialScheduler

/// Studies whose trials are jobs on a real single-node Slurm cluster (see SlurmCluster).
@Suite("Studies on a real Slurm cluster", .timeLimit(.minutes(4)))
struct SlurmStudyTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// A study spec whose trials run as Slurm jobs, polled every 200 ms.
  func slurmYAML(
    name: String, command: String, maxTrials: Int = 1, parallelism: Int = 1, executor: String = "",
    trial: String = "", extra: String = ""
  ) -> String {
    """
    name: \(name)
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 3, max_trials: \(maxTrials), parallelism: \(parallelism)}
    parameters:
      x: {type: float, min: 0, max: 1}
    trial:
      command: \(command)
      stop_grace_period: 2s
    \(trial)
    executor: {kind: slurm, poll_interval: 200ms\(executor)}
    \(extra)
    """
  }

  func run(_ yaml: String, stopSignal: StopSignal = StopSignal()) async throws -> (StudyRecord, [TrialRecord]) {
    let environment = try await SlurmCluster.shared.environment()
    return try await sandbox.run(
      yaml, stopSignal: stopSignal, executor: try sandbox.spec(yaml).makeExecutor(environment: environment))
  }

  func slurmJob(_ trial: TrialRecord) -> SlurmJobHandle? {
    guard case .slurm(let job) = trial.executorHandle else { return nil }
    return job
  }

  @Test(
    "metrics arrive while the job runs; argv and environment values with spaces, quotes, $, commas and newlines arrive intact"
  )
  func metricsStreamAndValuesArriveIntact() async throws {
    // Given a trial that reports a first metric, then waits for the test's go-ahead
    let go = "\(sandbox.root)/go"
    let script = try sandbox.script(
      "trial.sh",
      """
      python3 - "$@" <<'PY'
      import json, os, sys, time
      json.dump({"argv": sys.argv[1:], "weird": os.environ.get("WEIRD"), "sbatch": os.environ.get("SBATCH_PARTITION"),
                 "job": os.environ.get("SLURM_JOB_ID")}, open(os.environ["HPOD_ARTIFACT_DIR"] + "/seen.json", "w"))
      print('hpod {"step": 0, "score": 0.25}', flush=True)
      deadline = time.time() + 60
      while not os.path.exists("\(go)") and time.time() < deadline:
          time.sleep(0.05)
      print('hpod {"step": 1, "score": 0.75}', flush=True)
      PY
      """)
    let weird = "a,b\n$HOME \"quoted\" 'single'"
    let yaml = slurmYAML(
      name: "streamed",
      command: #"[\#(script), "two words", "$HOME", "a,b,c", "line1\nline2", "it's \"q\"", "{x}"]"#,
      trial: #"  env: {WEIRD: "a,b\n$HOME \"quoted\" 'single'", SBATCH_PARTITION: nowhere}"#)
    let study = Task { try await run(yaml) }

    // When the job has reported its first metric
    let database = sandbox.database
    let seenWhileRunning = await eventually(60) {
      guard let trial = try? database.trials(studyId: 1).first, trial.state == .running else { return false }
      return (try? database.metrics(trialId: trial.id!).count) == 1
    }
    #expect(seenWhileRunning, "the first metric should be stored while the job still runs")
    // The node is saved with the handle the next time the job's output is read.
    #expect(
      await eventually(10) { (try? database.trials(studyId: 1).first).flatMap { slurmJob($0)?.node } != nil },
      "the handle should name the node the job runs on")
    FileManager.default.createFile(atPath: go, contents: nil)

    // Then the study completes with the last value, and the job saw exactly what was given
    let (final, trials) = try await study.value
    #expect(final.state == .completed)
    #expect(trials.map(\.state) == [.completed])
    #expect(trials[0].value == 0.75)
    let seen =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: "\(trials[0].runDirectory!)/artifacts/seen.json")))
      as! [String: Any]
    let x = try #require(try JSONDecoder().decode([String: Double].self, from: Data(trials[0].paramsJSON.utf8))["x"])
    #expect(
      seen["argv"] as? [String] == [
        "two words", "$HOME", "a,b,c", "line1\nline2", "it's \"q\"", ParameterValue.double(x).description,
      ])
    #expect(seen["weird"] as? String == weird)
    #expect(seen["sbatch"] is NSNull, "SBATCH_* variables must not reach the job")
    #expect(seen["job"] as? String == slurmJob(trials[0])?.jobId)
  }

  @Test("early stopping cancels the job; exit 3 is failed with the job's last stderr line")
  func prunedAndFailedJobs() async throws {
    // Given trials that report a poor score for a minute, and one that fails
    let poor = try sandbox.script(
      "poor.sh",
      #"i=0; while [ $i -lt 600 ]; do echo "hpod {\"step\": $i, \"score\": 0.1}"; i=$((i+1)); sleep 0.1; done"#)
    let failing = try sandbox.script("fail.sh", #"echo "hpod {\"score\": 0.5}"; echo "disk on fire" >&2; exit 3"#)
    let started = Date()
    async let pruned = run(
      slurmYAML(
        name: "pruned", command: "[\(poor)]", extra: "early_stopping: {rule: threshold, lower: 0.5, min_steps: 2}"))
    async let failed = run(slurmYAML(name: "failed", command: "[\(failing)]"))
    let (prunedStudy, failedStudy) = try await (pruned, failed)

    // Then the poor trial is pruned by the rule well before its minute is up, and its job is gone
    let prunedTrial = try #require(prunedStudy.1.first)
    #expect(prunedTrial.state == .pruned)
    #expect(prunedTrial.reason?.contains("threshold") == true, "\(prunedTrial.reason ?? "")")
    #expect(Date().timeIntervalSince(started) < 45)
    let prunedJob = try #require(slurmJob(prunedTrial)).jobId
    let jobs = try await SlurmCluster.shared.jobs()
    #expect(!jobs.contains { $0.hasPrefix("\(prunedJob)|RUNNING") }, "\(jobs)")
    // And the failing one is failed with its exit code and what it said on stderr
    let failedTrial = try #require(failedStudy.1.first)
    #expect(failedTrial.state == .failed)
    #expect(failedTrial.exitCode == 3)
    #expect(failedTrial.reason?.contains("exited with status 3; last stderr line: disk on fire") == true)
  }

  @Test(
    "a trial that ignores SIGTERM is killed after its grace period; hpod's timeout counts from RUNNING, not from submission"
  )
  func timeoutFromRunningAndGracePeriod() async throws {
    // Given the whole node taken by another job for 6 s
    let blocker = try sandbox.script("blocker.sh", "sleep 6")
    let submitted = try await SlurmCluster.shared.run([
      "/usr/bin/sbatch", "--parsable", "--cpus-per-task=4", "--output=/dev/null", blocker,
    ])
    #expect(submitted.status == 0, "\(submitted.output)")
    // And a quick trial with a 4 s timeout that must wait for it, and one that ignores SIGTERM
    let quick = try sandbox.script("quick.sh", #"sleep 1; echo "hpod {\"score\": 1}""#)
    let stubborn = try sandbox.script(
      "stubborn.sh", #"trap 'echo "hpod {\"step\": 1, \"score\": 0.5}"' TERM; while true; do sleep 0.1; done"#)
    async let waited = run(slurmYAML(name: "queued", command: "[\(quick)]", trial: "  timeout: 4s"))
    let stubbornStart = Date()
    async let stopped = run(slurmYAML(name: "stubborn", command: "[\(stubborn)]", trial: "  timeout: 3s"))
    let (queued, killed) = try await (waited, stopped)

    // Then the queued trial completed although it waited longer than its timeout
    #expect(queued.1.map(\.state) == [.completed], "\(queued.1.map { $0.reason ?? "" })")
    // And the stubborn one timed out, was killed after the grace period, and took no longer than it should
    let trial = try #require(killed.1.first)
    #expect(trial.state == .timedOut)
    #expect(trial.reason?.contains("trial timeout of 3.0s") == true, "\(trial.reason ?? "")")
    let duration = try #require(trial.duration)
    #expect(duration >= 4.5 && duration < 15, "ran \(duration) s: 3 s timeout + 2 s grace")
    #expect(Date().timeIntervalSince(stubbornStart) < 40)
  }

  @Test("Slurm's own time limit is a timed-out trial; a job that can never start fails at once with Slurm's reason")
  func slurmTimeLimitAndHopelessJob() async throws {
    let sleeper = try sandbox.script("sleeper.sh", #"echo "hpod {\"score\": 0.5}"; sleep 300"#)
    // The `short` partition allows 1 minute; a 10-minute job can never start there.
    async let limited = run(slurmYAML(name: "limited", command: "[\(sleeper)]", executor: ", time: \"1\""))
    let hopelessStart = Date()
    let hopeless = try await run(
      slurmYAML(name: "hopeless", command: "[\(sleeper)]", executor: ", partition: short, time: \"10\""))
    let hopelessTrial = try #require(hopeless.1.first)
    #expect(hopelessTrial.state == .failed)
    #expect(hopelessTrial.reason?.contains("PartitionTimeLimit") == true, "\(hopelessTrial.reason ?? "")")
    #expect(Date().timeIntervalSince(hopelessStart) < 20)

    let limitedTrial = try #require(try await limited.1.first)
    #expect(limitedTrial.state == .timedOut)
    #expect(limitedTrial.reason?.contains("stopped by Slurm at its time limit") == true, "\(limitedTrial.reason ?? "")")
    #expect(limitedTrial.value == 0.5)
  }

  @Test(
    "trial.log_limit caps a job's logs while every metric still arrives; the job is named hpod-<study id>-<trial number> (issue 31)"
  )
  func logLimitAndJobName() async throws {
    // Given a trial that prints 3 MB to stdout and 1 MB to stderr, then its metric
    let flood = try sandbox.script(
      "flood.sh",
      """
      head -c 3000000 /dev/zero | tr '\\0' 'x'; echo
      head -c 1000000 /dev/zero | tr '\\0' 'y' >&2
      echo 'hpod {"score": 0.75}'
      sleep 1
      """)
    let (final, trials) = try await run(slurmYAML(name: "flood", command: "[\(flood)]", trial: "  log_limit: 100KB"))
    // Slurm knows its job under hpod's name for it (finished jobs stay listed for MinJobAge)
    let jobId = try #require(trials.first.flatMap { slurmJob($0) }?.jobId)
    let name = try await SlurmCluster.shared.run(["/usr/bin/squeue", "-h", "--states=all", "-j", jobId, "-o", "%j"])
    #expect(
      name.output.trimmingCharacters(in: .whitespacesAndNewlines) == "hpod-1-0", "study 1, trial 0: \(name.output)")

    // Then the metric printed after the cap arrived, and each log kept at most 100 KB and a note
    #expect(final.state == .completed)
    #expect(trials.first?.value == 0.75, "\(trials.first?.reason ?? "")")
    let folder = try #require(trials.first?.runDirectory)
    let stdout = try FileManager.default.attributesOfItem(atPath: "\(folder)/stdout.log")[.size] as? Int ?? 0
    let stderr = try FileManager.default.attributesOfItem(atPath: "\(folder)/stderr.log")[.size] as? Int ?? 0
    #expect(stdout > 100_000 && stdout < 100_200, "stdout.log has \(stdout) bytes")
    #expect(stderr > 100_000 && stderr < 100_200, "stderr.log has \(stderr) bytes")
    #expect(
      try String(contentsOfFile: "\(folder)/stdout.log", encoding: .utf8).contains("[hpod: log capped at 100000 bytes;")
    )
  }

  @Test(
    "a study stopped for a daemon shutdown leaves its jobs running; the next run adopts them, reads on from the saved offset, and runs nothing twice"
  )
  func jobsOutliveTheRunnerAndAreAdopted() async throws {
    // Given a trial that counts its starts, reports 3 steps, waits until the test lets it go on
    // (so neither job can finish while the other is still queued, however loaded the
    // machine), reports the rest, then a final value
    let starts = "\(sandbox.root)/starts"
    let proceed = "\(sandbox.root)/proceed"
    let script = try sandbox.script(
      "steady.sh",
      """
      echo started >> \(starts)
      i=0; while [ $i -lt 40 ]; do
        echo "hpod {\\"step\\": $i, \\"score\\": 0.$i}"; i=$((i+1))
        if [ $i -eq 3 ]; then while [ ! -e \(proceed) ]; do sleep 0.2; done; fi
        sleep 0.1
      done
      echo 'hpod {"score": 0.99, "final": true}'
      """)
    let yaml = slurmYAML(name: "outlives", command: "[\(script)]", maxTrials: 2, parallelism: 2)
    // When the runner stops as a daemon does at shutdown, once both jobs have reported
    let stop = StopSignal()
    let database = sandbox.database
    let first = Task { try await run(yaml, stopSignal: stop) }
    #expect(
      await eventually(60) {
        let trials = (try? database.trials(studyId: 1)) ?? []
        return trials.count == 2 && trials.allSatisfy { ((try? database.metrics(trialId: $0.id!).count) ?? 0) >= 3 }
      })
    stop.stop(reason: "the daemon is shutting down; the study resumes when it restarts", outcome: .running)
    let (stopped, left) = try await first.value
    #expect(stopped.state == .running)
    #expect(left.map(\.state) == [.running, .running], "the jobs should be left running: \(left.map(\.reason))")
    let savedOffsets = left.compactMap { slurmJob($0)?.stdoutOffset }
    #expect(savedOffsets.count == 2 && savedOffsets.allSatisfy { $0 > 0 })

    // And a new runner resumes the study, and the jobs go on
    FileManager.default.createFile(atPath: proceed, contents: Data())
    let (final, trials) = try await run(yaml)

    // Then both trials were adopted and completed, each started once, with every step stored once
    #expect(final.state == .completed)
    #expect(trials.count == 2)
    #expect(trials.map(\.state) == [.completed, .completed], "\(trials.map(\.reason))")
    #expect(trials.allSatisfy { $0.value == 0.99 })
    #expect(try String(contentsOfFile: starts, encoding: .utf8).split(separator: "\n").count == 2)
    for trial in trials {
      let steps = try database.metrics(trialId: trial.id!, name: "score").map(\.step)
      #expect(steps == Array(0..<40) + [39], "trial \(trial.number) stored steps \(steps)")
    }
  }
}
