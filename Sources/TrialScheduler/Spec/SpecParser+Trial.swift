import DidYouMean
import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge
import Yams

// The `trial:` section: the command and its placeholders, workdir, limits.
extension SpecParser {
  static let trialKeys = [
    "command", "workdir", "env", "timeout", "retries", "max_failed_trials", "cost_per_hour", "log_limit",
    "stop_grace_period", "fail_fast",
  ]

  func parseTrial(_ node: Node, space: SearchSpace?, tiers: [Tier: [String: ParameterValue]]) -> StudySpec
    .TrialTemplate?
  {
    guard let fields = reader.fields(node, "trial", allowed: Self.trialKeys, required: ["command"]) else { return nil }
    let command = fields["command"].flatMap { parseCommand($0, space: space, tiers: tiers) }
    var workdir = baseDirectory
    if let dir = reader.nonEmptyString(fields["workdir"], "trial.workdir") {
      workdir =
        dir.hasPrefix("/") ? dir : URL(fileURLWithPath: baseDirectory).appendingPathComponent(dir).standardized.path
      var isDirectory: ObjCBool = false
      if !FileManager.default.fileExists(atPath: workdir, isDirectory: &isDirectory) || !isDirectory.boolValue {
        reader.report(
          at: fields["workdir"], "trial.workdir",
          "no such directory: \(workdir) (relative paths start at the spec's folder)")
      }
    }
    var environment: [String: String] = [:]
    if let envNode = fields["env"],
      let entries = reader.namedEntries(envNode, "trial.env", what: "variable names to values")
    {
      for (key, keyNode, value) in entries {
        guard !key.isEmpty, !key.contains("="), !key.contains("\0") else {
          reader.report(at: keyNode, "trial.env.\(key)", "not a valid environment variable name")
          continue
        }
        if let text = reader.string(value, "trial.env.\(key)") { environment[key] = text }
      }
    }
    let timeout = reader.duration(fields["timeout"], "trial.timeout")
    let retries = fields["retries"].map { reader.int($0, "trial.retries", atLeast: 0, atMost: 1000) } ?? 0
    let maxFailed = reader.int(fields["max_failed_trials"], "trial.max_failed_trials", atLeast: 0)
    let cost = reader.double(fields["cost_per_hour"], "trial.cost_per_hour")
    if let cost, cost < 0 {
      reader.report(at: fields["cost_per_hour"], "trial.cost_per_hour", "expected a cost of 0 or more")
    }
    let logLimit = fields["log_limit"].map { reader.byteSize($0, "trial.log_limit") } ?? 10_000_000
    let grace = fields["stop_grace_period"].map { reader.duration($0, "trial.stop_grace_period") } ?? .seconds(10)
    let failFast = fields["fail_fast"].map { reader.bool($0, "trial.fail_fast") } ?? true
    guard let command, let retries, let logLimit, let grace, let failFast else { return nil }
    return StudySpec.TrialTemplate(
      driver: .process(command: command), workdir: workdir, environment: environment, timeout: timeout,
      retries: retries,
      maxFailedTrials: maxFailed, costPerHour: cost, logLimitBytes: logLimit, stopGracePeriod: grace,
      failFast: failFast)
  }

  static func askAndTellTrial(_ workdir: String) -> StudySpec.TrialTemplate {
    StudySpec.TrialTemplate(
      driver: .askAndTell, workdir: workdir, environment: [:], timeout: nil, retries: 0, maxFailedTrials: nil,
      costPerHour: nil,
      logLimitBytes: 10_000_000, stopGracePeriod: .seconds(10))
  }

  func parseCommand(_ node: Node, space: SearchSpace?, tiers: [Tier: [String: ParameterValue]]) -> [String]? {
    guard case .sequence(let sequence) = node else {
      reader.expected(
        "the command as a list of arguments, e.g. [python3, train.py, \"--lr={lr}\"]", at: node, "trial.command")
      return nil
    }
    guard !sequence.isEmpty else {
      reader.report(at: node, "trial.command", "expected at least the program to run")
      return nil
    }
    var argv: [String] = []
    let names = space?.parameters.map(\.name) ?? []
    for (index, item) in sequence.enumerated() {
      let path = "trial.command[\(index)]"
      guard case .scalar(let scalar) = item, !SpecReader.isNull(scalar) else {
        reader.expected("an argument (text)", at: item, path)
        continue
      }
      argv.append(scalar.string)
      checkShellSyntax(scalar.string, at: item, path)
      for piece in CommandTemplate.pieces(of: scalar.string) {
        switch piece {
        case .literal: break
        case .parameter(let name)
        where space != nil && !names.contains(name) && !CommandTemplate.trialKeys.contains(name):
          var message = "placeholder {\(name)} names no parameter"
          if let near = DidYouMean.nearest(to: name, in: names) { message += "; did you mean {\(near)}?" }
          reader.report(at: item, path, message)
        case .tierKey(let key):
          if tiers.isEmpty {
            reader.report(at: item, path, "placeholder {tier.\(key)} needs a `tiers:` section defining '\(key)'")
          }
          for (tier, values) in tiers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where values[key] == nil {
            var message = "placeholder {tier.\(key)}: tier \(tier.rawValue) has no key '\(key)'"
            if let near = DidYouMean.nearest(to: key, in: values.keys.sorted()) {
              message += "; did you mean {tier.\(near)}?"
            }
            reader.report(at: item, path, message)
          }
        case .parameter: break
        }
      }
    }
    return argv.count == sequence.count ? argv : nil
  }
}
