// Evaluates the shared suite's functions through `suite.py serve`, so the functions are
// defined once (in ../shared/bench/functions.py) for hpod and its peers alike.

import Foundation
import SearchStrategies
import StudyModel

struct EvaluatorError: Error, CustomStringConvertible {
  var description: String
}

final class SuiteEvaluator {
  let space: SearchSpace
  private let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private var buffer = Data()

  /// Starts `python3 suite.py serve <function>` (the interpreter from HPOD_BENCH_PYTHON, else
  /// `python3` on PATH) and reads the function's space from its first line.
  init(function: String) throws {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("suite.py").path
    let python = ProcessInfo.processInfo.environment["HPOD_BENCH_PYTHON"] ?? "python3"
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, script, "serve", function]
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let line = try Self.readLine(output.fileHandleForReading, &buffer)
    let first = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    guard let parameters = first?["parameters"] as? [[String: Any]] else {
      throw EvaluatorError(description: "suite.py: no space for \(function): \(line)")
    }
    space = SearchSpace(
      try parameters.map { entry in
        let name = entry["name"] as! String
        let log = entry["log"] as? Bool ?? false
        switch entry["kind"] as? String {
        case "float": return .float(name, Self.number(entry["low"]), Self.number(entry["high"]), log: log)
        case "int": return .int(name, Int(Self.number(entry["low"])), Int(Self.number(entry["high"])), log: log)
        case "cat":
          let values = (entry["low"] as? [Any] ?? []).map { value -> ParameterValue in
            if let string = value as? String { return .string(string) }
            return .double(Self.number(value))
          }
          return .categorical(name, values)
        default: throw EvaluatorError(description: "suite.py: unknown kind in \(entry)")
        }
      })
  }

  deinit {
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
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
      guard !chunk.isEmpty else { throw EvaluatorError(description: "suite.py ended early") }
      buffer.append(chunk)
    }
  }

  func evaluate(_ configuration: Configuration) throws -> Double {
    var object: [String: Any] = [:]
    for (name, value) in configuration {
      switch value {
      case .string(let string): object[name] = string
      default: object[name] = value.numericValue!
      }
    }
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    input.fileHandleForWriting.write(data + Data("\n".utf8))
    let line = try Self.readLine(output.fileHandleForReading, &buffer)
    guard let value = Double(line.trimmingCharacters(in: .whitespaces)) else {
      throw EvaluatorError(description: "suite.py answered \(line)")
    }
    return value
  }
}
