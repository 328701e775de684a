import Foundation
import SearchStrategies
import TrackingBridge
import Yams

// The `executor:` and `resources:` sections.
extension SpecParser {
  static let slurmKeys = [
    "partition", "account", "qos", "time", "cpus_per_task", "mem", "gres", "constraint", "extra_args",
    "shared_folder", "poll_interval",
  ]

  /// sbatch options hpod sets itself for every job, or that the settings above name.
  static let ownedSbatchOptions: [String: String] = [
    "--output": "hpod writes the job's output to the trial's folder",
    "-o": "hpod writes the job's output to the trial's folder",
    "--error": "hpod writes the job's errors to the trial's folder",
    "-e": "hpod writes the job's errors to the trial's folder",
    "--input": "a trial reads nothing on stdin",
    "-i": "a trial reads nothing on stdin",
    "--job-name": "hpod names each job after its trial",
    "-J": "hpod names each job after its trial",
    "--comment": "hpod identifies its jobs by their comment",
    "--chdir": "set trial.workdir instead",
    "-D": "set trial.workdir instead",
    "--export": "set trial.env instead",
    "--export-file": "set trial.env instead",
    "--parsable": "hpod reads the job id itself",
    "--requeue": "hpod re-runs a trial itself, so Slurm must not",
    "--no-requeue": "hpod sets it",
    "--wrap": "hpod runs trial.command",
    "--array": "each trial is one job",
    "-a": "each trial is one job",
    "--wait": "hpod follows the job itself",
    "-W": "hpod follows the job itself",
    "--open-mode": "hpod reads the job's output as it grows",
    "--partition": "use executor.partition",
    "-p": "use executor.partition",
    "--account": "use executor.account",
    "-A": "use executor.account",
    "--qos": "use executor.qos",
    "-q": "use executor.qos",
    "--time": "use executor.time",
    "-t": "use executor.time",
    "--cpus-per-task": "use executor.cpus_per_task or resources.cpus",
    "-c": "use executor.cpus_per_task or resources.cpus",
    "--mem": "use executor.mem",
    "--gres": "use executor.gres or resources.gpus",
    "--gpus": "use resources.gpus",
    "-G": "use resources.gpus",
    "--constraint": "use executor.constraint",
    "-C": "use executor.constraint",
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
    settings.mem =
      word("mem", pattern: "[0-9]+[KMGT]?", example: "memory per node such as 4000 (MB), 4G or 1T") ?? base.mem
    settings.gres =
      word(
        "gres", pattern: "\(name)(:\(name))*(,\(name)(:\(name))*)*",
        example: "generic resources such as gpu:1 or gpu:a100:2")
      ?? base.gres
    settings.constraint =
      word("constraint", pattern: "[A-Za-z0-9_.&|\\[\\]*()!,:-]+", example: "node features such as a100|v100")
      ?? base.constraint
    if let node = fields["cpus_per_task"] {
      settings.cpusPerTask = reader.int(node, "\(path).cpus_per_task", atLeast: 1, atMost: 100_000)
    }
    if let node = fields["shared_folder"], let folder = reader.nonEmptyString(node, "\(path).shared_folder") {
      if folder.hasPrefix("/") {
        settings.sharedFolder = folder
      } else {
        reader.report(at: node, "\(path).shared_folder", "expected an absolute path on a file system every node sees")
      }
    }
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
        // `--name=value`, or a short option with its value attached (`-pdebug`).
        let option = text.hasPrefix("--") ? String(text.prefix { $0 != "=" }) : String(text.prefix(2))
        if let why = Self.ownedSbatchOptions[option] {
          reader.report(at: item, itemPath, "\(option) is set by hpod: \(why)")
        } else if !text.hasPrefix("-") {
          reader.report(
            at: item, itemPath, "expected an sbatch option with its value, such as --nodelist=node1, found \"\(text)\"")
        } else if text.contains("\n") {
          reader.report(at: item, itemPath, "an sbatch argument cannot contain a newline")
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
