import Foundation
import Testing
import TrackingBridge

@testable import TrialScheduler

/// Local trials placed on declared GPUs and CPUs (`resources:` with `--gpus`, `--cpus`).
@Suite("Resource placement of local trials")
struct ResourcePlacementTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// Runs a study through a runner that places trials on `pool`.
  func run(_ yaml: String, pool: ResourcePool) async throws -> [TrialRecord] {
    let spec = try sandbox.spec(yaml)
    guard
      case .new(let study) = try StudySession.start(
        spec: spec, yaml: yaml, path: nil, database: sandbox.database, fresh: false)
    else { throw CancellationError() }
    let runner = StudyRunner(
      spec: spec, database: sandbox.database, home: sandbox.home, executor: LocalProcessExecutor(),
      strategy: try spec.makeStrategy(), resources: pool)
    _ = try await runner.run(study)
    return try sandbox.database.trials(studyId: study.id!)
  }

  @Test("each running trial gets its own GPU; no more run than there are; a finished trial frees its device")
  func gpusAreNeverShared() async throws {
    // Given two GPUs and four trials of one GPU each, three allowed at once
    let log = "\(sandbox.root)/placements"
    let script = try sandbox.script(
      "gpu.sh",
      """
      echo "start $CUDA_VISIBLE_DEVICES $(date +%s.%N)" >> \(log)
      sleep 0.5
      echo "end $CUDA_VISIBLE_DEVICES $(date +%s.%N)" >> \(log)
      echo 'hpod {"score": 1}'
      """)
    let trials = try await run(
      studyYAML(command: "[\(script)]", maxTrials: 4, parallelism: 3, extra: "resources: {gpus: 1}"),
      pool: ResourcePool(gpus: ["0", "1"], cpus: 8))

    // Then all completed, each on one device, never two on the same one, never more than two at once
    #expect(trials.map(\.state) == Array(repeating: .completed, count: 4))
    let events = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
      $0.split(separator: " ").map(String.init)
    }.sorted { Double($0[2])! < Double($1[2])! }
    var holding: Set<String> = []
    var used: Set<String> = []
    for event in events {
      let device = event[1]
      #expect(["0", "1"].contains(device), "each trial sees exactly one of the declared devices, saw '\(device)'")
      if event[0] == "start" {
        #expect(!holding.contains(device), "device \(device) was given to two running trials")
        holding.insert(device)
        used.insert(device)
      } else {
        holding.remove(device)
      }
      #expect(holding.count <= 2)
    }
    #expect(used == ["0", "1"], "a freed device is placed again")
  }

  @Test("a trial that declares no GPUs sees none; one that needs more than there are fails with what to do")
  func noGPUsAndTooMany() async throws {
    let script = try sandbox.script(
      "env.sh", #"echo "visible=[${CUDA_VISIBLE_DEVICES-unset}]" >&2; echo 'hpod {"score": 1}'"#)
    let none = try await run(
      studyYAML(name: "none", command: "[\(script)]", maxTrials: 1), pool: ResourcePool(gpus: ["0"], cpus: 2))
    #expect(none.map(\.state) == [.completed])
    let stderr = try String(contentsOfFile: "\(none[0].runDirectory!)/stderr.log", encoding: .utf8)
    #expect(stderr.contains("visible=[]"), "\(stderr)")

    let many = try await run(
      studyYAML(name: "many", command: "[\(script)]", maxTrials: 1, extra: "resources: {gpus: 3, cpus: 1}"),
      pool: ResourcePool(gpus: ["0"], cpus: 2))
    #expect(many.map(\.state) == [.failed])
    #expect(many[0].reason?.contains("needs 3 GPUs and this hpod has 1 (0); start it with --gpus") == true)
  }

  @Test("declared CPUs never add up to more than there are")
  func cpusAreCounted() async throws {
    let pool = ResourcePool(gpus: [], cpus: 4)
    let first = try #require(try await pool.acquire(.init(cpus: 3), for: 1))
    // A second trial of 2 CPUs waits for the first
    let second = Task { try await pool.acquire(.init(cpus: 2), for: 2) }
    try await Task.sleep(for: .milliseconds(100))
    #expect(pool.cpusInUse == 3, "the second request must wait: 3 + 2 is more than 4")
    pool.release(first)
    let placed = try #require(try await second.value)
    #expect(placed.cpus == 2)
    #expect(pool.cpusInUse == 2)
    await #expect(throws: ResourcePool.TooLarge.self) { try await pool.acquire(.init(cpus: 5), for: 3) }
  }

  @Test("a trial waiting for devices is withdrawn at once, and the next in line is served", .timeLimit(.minutes(1)))
  func waitsAreWithdrawn() async throws {
    let pool = ResourcePool(gpus: ["0"], cpus: 4)
    let first = try #require(try await pool.acquire(.init(gpus: 1), for: 1))
    // Given a trial that waits for the GPU and one behind it that needs a CPU only
    let waiting = Task { try await pool.acquire(.init(gpus: 1), for: 2) }
    try await Task.sleep(for: .milliseconds(50))
    let behind = Task { try await pool.acquire(.init(cpus: 1), for: 3) }
    try await Task.sleep(for: .milliseconds(50))
    // When the waiting trial's study is cancelled
    pool.withdraw(2)
    // Then it returns without devices while the GPU is still held, and the one behind it is placed
    #expect(try await waiting.value == nil)
    #expect(try await behind.value?.cpus == 1)
    // and a withdrawal that comes before the wait begins ends it before it waits
    pool.withdraw(4)
    #expect(try await pool.acquire(.init(gpus: 1), for: 4) == nil)
    pool.release(first)
    #expect(pool.gpusInUse == 0)
  }
}
