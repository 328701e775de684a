import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge
import Yams

// The `executor:` and `resources:` sections.
extension SpecParser {
  static let slurmKeys = [
    "partition", "account", "qos", "time", "cpus_per_task", "mem", "gres", "constraint", "extra_args",
    "shared_folder", "poll_interval",
  ]

  func parseExecutor(_ node: Node?, tiers: [Tier: [String: ParameterValue]]) -> StudySpec.Executor {
    guard let node else { return .local }
    let tierKeys = Tier.allCases.map(\.rawValue)
    guard let fields = reader.fields(node, "executor", allowed: ["kind"] + Self.slurmKeys + tierKeys) else {
      return .local
    }
    enum Kind: String, CaseIterable { case local, slurm }
    let kind = fields["kind"].map { reader.choice($0, "executor.kind", as: Kind.self) } ?? .local
    guard kind == .slurm else {
      for key in Self.slurmKeys + tierKeys where fields[key] != nil {
        reader.report(at: fields.keys[key], "executor.\(key)", "'\(key)' applies to `kind: slurm` only")
      }
      return .local
    }
    let study = slurmSettings(fields, path: "executor", base: SlurmSettings())
    var perTier: [Tier: SlurmSettings] = [:]
    for tier in Tier.allCases {
      guard let tierNode = fields[tier.rawValue] else { continue }
      let path = "executor.\(tier.rawValue)"
      if tiers[tier] == nil, tier != .quickTest {
        reader.report(at: tierNode, path, "the study has no \(tier.rawValue) tier (add it under `tiers:`)")
      }
      guard let tierFields = reader.fields(tierNode, path, allowed: Self.slurmKeys) else { continue }
      perTier[tier] = slurmSettings(tierFields, path: path, base: study)
    }
    return .slurm(study, perTier: perTier)
  }

  private func slurmSettings(_ fields: Fields, path: String, base: SlurmSettings) -> SlurmSettings {
    var settings = base
    func word(_ key: String, pattern: String, example: String) -> String? {
      guard let node = fields[key], let text = reader.nonEmptyString(node, "\(path).\(key)") else { return nil }
      guard text.range(of: "^(\(pattern))$", options: .regularExpression) != nil else {
        reader.report(at: node, "\(path).\(key)", "expected \(example), found \"\(text)\"")
        return nil
      }
      return text
    }
    let name = "[A-Za-z0-9_.@+-]+"
    settings.partition = word("partition", pattern: "\(name)(,\(name))*", example: "a partition name") ?? base.partition
    settings.account = word("account", pattern: name, example: "an account name") ?? base.account
    settings.qos = word("qos", pattern: name, example: "a QOS name") ?? base.qos
    settings.time =
      word(
        "time", pattern: "[0-9]+(-[0-9]+)?(:[0-9]+){0,2}|UNLIMITED|INFINITE",
        example: "a Slurm time limit such as 30 (minutes), 10:00, 2:00:00 or 1-00:00:00") ?? base.time
    /// A value `problem` finds nothing wrong with.
    func checked(_ key: String, _ problem: (String) -> String?) -> String? {
      guard let node = fields[key], let text = reader.nonEmptyString(node, "\(path).\(key)") else { return nil }
      if let problem = problem(text) {
        reader.report(at: node, "\(path).\(key)", problem)
        return nil
      }
      return text
    }
    settings.mem = checked("mem", SlurmSpecRules.memoryProblem) ?? base.mem
    settings.gres = checked("gres", SlurmSpecRules.gresProblem) ?? base.gres
    settings.constraint =
      word("constraint", pattern: "[A-Za-z0-9_.&|\\[\\]*()!,:-]+", example: "node features such as a100|v100")
      ?? base.constraint
    if let node = fields["cpus_per_task"] {
      settings.cpusPerTask = reader.int(node, "\(path).cpus_per_task", atLeast: 1, atMost: 100_000)
    }
    // Checked now: a folder the trials' folders cannot be made in would hold every trial.
    if let folder = checked("shared_folder", SlurmSpecRules.sharedFolderProblem) { settings.sharedFolder = folder }
    if let node = fields["poll_interval"], let interval = reader.duration(node, "\(path).poll_interval") {
      if interval < .milliseconds(100) {
        reader.report(at: node, "\(path).poll_interval", "expected at least 100ms (each poll is one squeue call)")
      } else {
        settings.pollInterval = interval
      }
    }
    if let items = reader.list(fields["extra_args"], "\(path).extra_args", of: "sbatch arguments") {
      var arguments: [String] = []
      for (index, item) in items.enumerated() {
        let itemPath = "\(path).extra_args[\(index)]"
        guard let text = reader.nonEmptyString(item, itemPath) else { continue }
        if let problem = SlurmSpecRules.extraArgumentProblem(text) {
          reader.report(at: item, itemPath, problem)
        } else {
          arguments.append(text)
        }
      }
      settings.extraArguments = base.extraArguments + arguments
    }
    return settings
  }

  func parseResources(_ node: Node?, tiers: [Tier: [String: ParameterValue]]) -> [Tier: StudySpec.Resources] {
    guard let node else { return [:] }
    let tierKeys = Tier.allCases.filter { $0 != .quickTest }.map(\.rawValue)
    guard let fields = reader.fields(node, "resources", allowed: ["gpus", "cpus"] + tierKeys) else { return [:] }
    func resources(_ fields: Fields, _ path: String, base: StudySpec.Resources) -> StudySpec.Resources {
      StudySpec.Resources(
        gpus: reader.int(fields["gpus"], "\(path).gpus", atLeast: 0, atMost: 1024) ?? base.gpus,
        cpus: reader.int(fields["cpus"], "\(path).cpus", atLeast: 0, atMost: 100_000) ?? base.cpus)
    }
    let study = resources(fields, "resources", base: .none)
    var byTier: [Tier: StudySpec.Resources] = [.quickTest: study]
    for tier in Tier.allCases where tier != .quickTest {
      guard let tierNode = fields[tier.rawValue] else { continue }
      let path = "resources.\(tier.rawValue)"
      if tiers[tier] == nil {
        reader.report(at: tierNode, path, "the study has no \(tier.rawValue) tier (add it under `tiers:`)")
      }
      guard let tierFields = reader.fields(tierNode, path, allowed: ["gpus", "cpus"]) else { continue }
      byTier[tier] = resources(tierFields, path, base: study)
    }
    return byTier
  }
}
