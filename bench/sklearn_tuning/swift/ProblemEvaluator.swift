// Evaluates a bench/sklearn_tuning problem through `problems.py serve`, so the problems (and
// the on-disk cache of their cross-validated losses) are defined once for hpod and its peers.

import Foundation
import SearchStrategies
import StudyModel

struct EvaluatorError: Error, CustomStringConvertible {
  var description: String
}

final class ProblemEvaluator {
  let space: SearchSpace
  private let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private var buffer = Data()

  /// Starts `python3 problems.py serve <problem>` (the interpreter from HPOD_BENCH_PYTHON,
  /// else `python3` on PATH) and reads the problem's space from its first line.
  init(problem: String) throws {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("problems.py").path
    let python = ProcessInfo.processInfo.environment["HPOD_BENCH_PYTHON"] ?? "python3"
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, script, "serve", problem]
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let line = try Self.readLine(output.fileHandleForReading, &buffer)
    let first = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    guard let parameters = first?["parameters"] as? [[String: Any]] else {
      throw EvaluatorError(description: "problems.py: no space for \(problem): \(line)")
    }
    space = SearchSpace(try parameters.map(Self.parameter))
  }

  deinit {
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
  }

  /// One parameter of problems.py's space. A `logit` parameter gets hpod's logit scale, as a
  /// practitioner writes it in an hpod spec (`logit: true`; the peers have no such scale and
  /// get a uniform float); with HPOD_BENCH_NO_LOGIT set, a uniform float as for the peers.
  private static func parameter(_ entry: [String: Any]) throws -> Parameter {
    guard let name = entry["name"] as? String else { throw EvaluatorError(description: "no name in \(entry)") }
    let log = entry["log"] as? Bool ?? false
    var conditions: [Condition] = []
    if let when = entry["when"] as? [String: [Any]] {
      conditions = when.sorted { $0.key < $1.key }.map { parent, values in
        Condition(parameter: parent, values: values.map { .string("\($0)") })
      }
    }
    switch entry["kind"] as? String {
    case "float":
      let logit = entry["logit"] as? Bool == true && ProcessInfo.processInfo.environment["HPOD_BENCH_NO_LOGIT"] == nil
      return .float(name, number(entry["low"]), number(entry["high"]), log: log, logit: logit, when: conditions)
    case "int":
      return .int(name, Int(number(entry["low"])), Int(number(entry["high"])), log: log, when: conditions)
    case "cat":
      let choices = (entry["choices"] as? [String] ?? []).map { ParameterValue.string($0) }
      guard !choices.isEmpty else { throw EvaluatorError(description: "no choices in \(entry)") }
      return .categorical(name, choices, when: conditions)
    default:
      throw EvaluatorError(description: "problems.py: unknown kind in \(entry)")
    }
  }

  private static func number(_ value: Any?) -> Double {
    (value as? NSNumber)?.doubleValue ?? .nan
  }

  private static func readLine(_ handle: FileHandle, _ buffer: inout Data) throws -> String {
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
        buffer = Data(buffer[(newline + 1)...])
        return line
      }
      let chunk = handle.availableData
      guard !chunk.isEmpty else { throw EvaluatorError(description: "problems.py ended early") }
      buffer.append(chunk)
    }
  }

  /// The configuration as a JSON object, each value in its own JSON type.
  static func jsonObject(_ configuration: Configuration) -> [String: Any] {
    var object: [String: Any] = [:]
    for (name, value) in configuration {
      switch value {
      case .string(let string): object[name] = string
      case .bool(let flag): object[name] = flag
      case .int(let number): object[name] = number
      case .double(let number): object[name] = number
      }
    }
    return object
  }

  /// The configuration's cross-validated loss (from the cache when it was evaluated before).
  func evaluate(_ configuration: Configuration) throws -> Double {
    let data = try JSONSerialization.data(withJSONObject: Self.jsonObject(configuration), options: [.sortedKeys])
    input.fileHandleForWriting.write(data + Data("\n".utf8))
    let line = try Self.readLine(output.fileHandleForReading, &buffer)
    guard let value = Double(line.trimmingCharacters(in: .whitespaces)) else {
      throw EvaluatorError(description: "problems.py answered \(line)")
    }
    return value
  }
}
