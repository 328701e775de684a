import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What a Slurm executor's settings may say: each check returns why a value cannot work (the
/// spec is refused with it, at the value), or nil.
enum SlurmSpecRules {
  /// The most generic resources of one kind a job may ask for (`gres: gpu:N`).
  static let largestGresCount = 100_000
  /// The most memory per node a job may ask for: 16 TB (the largest nodes sold have 12 TB).
  static let largestMemoryMB = 16 << 20

  /// `name[:type][:count]`, comma-separated; a count is a whole number from 1 (a type cannot
  /// look like a number).
  static func gresProblem(_ text: String) -> String? {
    let name = "^[A-Za-z][A-Za-z0-9_.+-]*$"
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      guard parts.count <= 3, parts[0].range(of: name, options: .regularExpression) != nil else {
        return "expected generic resources such as gpu:1 or gpu:a100:2, found \"\(text)\""
      }
      guard parts.count > 1, let last = parts.last else { continue }
      let looksNumeric = last.first.map { $0.isNumber || $0 == "-" || $0 == "+" } ?? true
      if parts.count == 3 || looksNumeric {
        guard last.count <= 6, last.allSatisfy(\.isNumber), let count = Int(last), count >= 1,
          count <= largestGresCount
        else {
          return "the count in \"\(item)\" must be a whole number from 1 to \(largestGresCount)"
        }
      }
      if parts.count == 3, parts[1].range(of: "^[A-Za-z][A-Za-z0-9_.+-]*$", options: .regularExpression) == nil {
        return "expected a type such as a100 in \"\(item)\""
      }
    }
    return nil
  }

  /// Memory per node, `N[K|M|G|T]` (MB without a unit; 0 asks for all of a node's memory),
  /// at most `largestMemoryMB`.
  static func memoryProblem(_ text: String) -> String? {
    guard text.range(of: "^[0-9]+[KMGT]?$", options: .regularExpression) != nil else {
      return "expected memory per node such as 4000 (MB), 4G or 1T, found \"\(text)\""
    }
    let unit = text.last!.isNumber ? nil : text.last!
    let digits = unit == nil ? text : String(text.dropLast())
    let perUnit: Double =
      switch unit {
      case "K": 1.0 / 1024
      case "G": 1024
      case "T": 1024 * 1024
      default: 1
      }
    // As a Double, so that no number of digits can overflow.
    guard let value = Double(digits), value * perUnit <= Double(largestMemoryMB) else {
      return "\(text) is more memory than any node has (at most 16T)"
    }
    return nil
  }

  /// sbatch options hpod sets itself for every job, or that the settings above name, with why.
  static let ownedOptions: [String: String] = [
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

  /// sbatch options that cannot work under hpod: a job that never starts or is never seen, or
  /// no job at all, with why.
  static let unworkableOptions: [String: String] = [
    "--hold": "a held job never starts on its own, so the study would wait for it forever",
    "-H": "a held job never starts on its own, so the study would wait for it forever",
    "--test-only": "sbatch would only test the job and submit nothing",
    "--help": "sbatch would print its help and submit nothing",
    "-h": "sbatch would print its help and submit nothing",
    "--usage": "sbatch would print its usage and submit nothing",
    "--version": "sbatch would print its version and submit nothing",
    "-V": "sbatch would print its version and submit nothing",
    "--clusters": "hpod follows its jobs on the cluster SLURM_CONF names (set SLURM_CONF to choose the cluster)",
    "-M": "hpod follows its jobs on the cluster SLURM_CONF names (set SLURM_CONF to choose the cluster)",
    "--uid": "hpod follows the jobs it submits as its own user",
    "--gid": "hpod follows the jobs it submits as its own user",
  ]

  /// Why sbatch `option` cannot be in `extra_args`, or nil.
  static func refusal(_ option: String) -> String? {
    if let why = ownedOptions[option] { return "\(option) is set by hpod: \(why)" }
    if let why = unworkableOptions[option] { return "\(option) cannot work under hpod: \(why)" }
    return nil
  }

  /// Why an `extra_args` item cannot be passed, or nil. sbatch takes any unambiguous prefix
  /// of a long option (`--hol` is `--hold`), so a prefix of an owned one is refused as it.
  static func extraArgumentProblem(_ text: String) -> String? {
    guard text.hasPrefix("-"), text.count >= 2 else {
      return "expected an sbatch option with its value, such as --nodelist=node1, found \"\(text)\""
    }
    if text.contains("\n") { return "an sbatch argument cannot contain a newline" }
    if text.hasPrefix("--") {
      let option = String(text.prefix { $0 != "=" })
      if let refusal = refusal(option) { return refusal }
      let refused = Array(ownedOptions.keys) + Array(unworkableOptions.keys)
      if option.count >= 4, let full = refused.filter({ $0.hasPrefix(option) }).min(), let refusal = refusal(full) {
        return "\(option) is sbatch's abbreviation of \(full); \(refusal)"
      }
      return nil
    }
    // A short option, with its value attached or not (`-pdebug`).
    return refusal(String(text.prefix(2)))
  }

  /// Why `folder` cannot hold the trials' folders: it must be a directory hpod can create
  /// folders in (checked by making and removing one; `access` says yes to root everywhere).
  static func sharedFolderProblem(_ folder: String) -> String? {
    guard folder.hasPrefix("/") else { return "expected an absolute path on a file system every node sees" }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
      return "no such directory: \(folder) (create it on a file system every node sees)"
    }
    guard isDirectory.boolValue else { return "\(folder) is not a directory" }
    var template = Array("\(folder)/.hpod-probe-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      return "hpod cannot create the trials' folders in \(folder): \(String(cString: strerror(errno)))"
    }
    rmdir(made)
    return nil
  }
}
