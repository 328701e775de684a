// The Swift side of bench/multi_objective: runs one study of hpod's search on a standard
// multi-objective problem (evaluated by bench/multi_objective/problems.py in a child process)
// and prints one JSON line: every trial's objectives and constraint violation, and the
// hypervolume of the feasible ones by hpod's own MultiObjective.Hypervolume.
//
//   bench-multi-objective <problem> <bayes|parego|random> <seed> <trials> [parallelism]

import Foundation
import MultiObjective
import SearchStrategies

/// `python3 problems.py serve <problem>` as a child process: one JSON line each way.
final class ProblemProcess {
  let variables: Int
  let objectives: Int
  let reference: [Double]
  private let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private var buffer = Data()

  init(problem: String) throws {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("problems.py").path
    let python = ProcessInfo.processInfo.environment["HPOD_BENCH_PYTHON"] ?? "python3"
    let info = Process()
    let infoOutput = Pipe()
    info.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    info.arguments = [python, script, "info", problem]
    info.standardOutput = infoOutput
    try info.run()
    let data = infoOutput.fileHandleForReading.readDataToEndOfFile()
    info.waitUntilExit()
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    variables = object["variables"] as? Int ?? 0
    objectives = object["objectives"] as? Int ?? 0
    reference = (object["reference"] as? [NSNumber] ?? []).map(\.doubleValue)
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, script, "serve", problem]
    process.standardInput = input
    process.standardOutput = output
    try process.run()
  }

  deinit {
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
  }

  func evaluate(_ x: [Double]) throws -> (f: [Double], violation: Double, constraints: [Double]) {
    input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: x) + Data("\n".utf8))
    while buffer.firstIndex(of: UInt8(ascii: "\n")) == nil {
      let chunk = output.fileHandleForReading.availableData
      guard !chunk.isEmpty else { throw ProblemError(description: "problems.py ended early") }
      buffer.append(chunk)
    }
    let newline = buffer.firstIndex(of: UInt8(ascii: "\n"))!
    let line = Data(buffer[buffer.startIndex..<newline])
    buffer = Data(buffer[(newline + 1)...])
    let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] ?? [:]
    guard let f = (object["f"] as? [NSNumber])?.map(\.doubleValue), let v = object["violation"] as? NSNumber else {
      throw ProblemError(description: "problems.py answered \(String(decoding: line, as: UTF8.self))")
    }
    return (f, v.doubleValue, (object["constraints"] as? [NSNumber])?.map(\.doubleValue) ?? [])
  }
}

struct ProblemError: Error, CustomStringConvertible {
  var description: String
}

func emit(_ object: [String: Any]) {
  let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
  FileHandle.standardOutput.write(data + Data("\n".utf8))
}

let arguments = CommandLine.arguments
guard 5...6 ~= arguments.count, ["bayes", "parego", "random"].contains(arguments[2]), let seed = UInt64(arguments[3]),
  let trials = Int(arguments[4]), trials > 0, let parallelism = arguments.count == 6 ? Int(arguments[5]) : 1,
  parallelism >= 1
else {
  FileHandle.standardError.write(
    Data("usage: bench-multi-objective <problem> <bayes|parego|random> <seed> <trials> [parallelism ≥ 1]\n".utf8))
  exit(2)
}
let problem = try ProblemProcess(problem: arguments[1])
let space = SearchSpace((0..<problem.variables).map { .float("x\($0)", 0, 1) })
// bayes: hpod's default (EHVI weighted by the probability of feasibility); parego: its
// scalarizations on one GP.
var bayes = BayesianOptimization(seed: seed, startupTrials: 10)
if arguments[2] == "parego" { bayes.multiObjectiveAcquisition = .parEGO }
let strategy: any SearchStrategy = arguments[2] == "random" ? RandomSearch(seed: seed) : bayes
var context = SearchContext(space: space)
var points: [[Double]] = []
var violations: [Double] = []
var suggestSeconds = 0.0
let start = Date()
// With parallelism p, p trials are in flight: each suggestion sees the other p − 1 pending,
// and the oldest finishes next (equal trial durations).
for _ in 0..<trials {
  while context.pending.count < parallelism, context.suggestedCount < trials {
    let asked = Date()
    context.pending += try strategy.suggest(1, in: context)
    suggestSeconds += Date().timeIntervalSince(asked)
  }
  let configuration = context.pending.removeFirst()
  let x = space.parameters.map { configuration[$0.name]!.numericValue! }
  let (f, violation, constraints) = try problem.evaluate(x)
  // As hpod's runner does: the first objective is the value, all of them the losses.
  var observation = Observation.completed(configuration, f[0])
  observation.losses = f
  observation.violation = violation
  observation.constraints = constraints
  context.observations.append(observation)
  points.append(f)
  violations.append(violation)
}
let feasible = zip(points, violations).filter { $0.1 == 0 }.map(\.0)
emit([
  "kind": "mo", "problem": arguments[1],
  "sampler": parallelism > 1 ? "hpod-\(arguments[2])-p\(parallelism)" : "hpod-\(arguments[2])", "seed": seed,
  "trials": trials,
  "points": points, "violations": violations,
  "hypervolume": Hypervolume.of(feasible, reference: problem.reference),
  "seconds": Date().timeIntervalSince(start), "suggest_seconds": suggestSeconds,
])
