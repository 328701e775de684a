public import Foundation
public import TrackingBridge

/// Runs each trial as a Slurm batch job: `sbatch --parsable` of a script that execs the
/// trial's argv (passed as the script's arguments, so no shell reads them), with exactly the
/// trial's environment; output goes to the trial's folder on the shared folder, where hpod
/// reads it as it grows. Jobs outlive hpod: a restarted hpod adopts them by their handle.
public struct SlurmExecutor: TrialExecutor {
  public let settings: SlurmSettings
  /// A tier's own settings (full trainings asking for more), where the spec gives them.
  public let perTier: [Tier: SlurmSettings]
  let command: SlurmCommand
  let reportPrefix = "hpod "
  /// Slurm gives each job its GPUs and CPUs (`--gres`, `--cpus-per-task`).
  public var placesTrialsItself: Bool { true }

  /// `environment` is where the Slurm commands find the cluster (PATH, SLURM_CONF).
  public init(
    settings: SlurmSettings, perTier: [Tier: SlurmSettings] = [:],
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.settings = settings
    self.perTier = perTier
    command = SlurmCommand(environment: environment)
  }

  public func workspace(studyId: Int64, trialNumber: Int, defaultDirectory: String) -> TrialWorkspace {
    guard let shared = settings.sharedFolder else { return TrialWorkspace(directory: defaultDirectory) }
    return TrialWorkspace(directory: "\(shared)/study-\(studyId)/trial-\(trialNumber)")
  }

  public func launch(_ launch: TrialLaunch) async throws(TrialLaunchError) -> any RunningTrial {
    guard !launch.argv.isEmpty, !launch.argv[0].isEmpty else { throw TrialLaunchError("the trial command is empty") }
    let settings = perTier[launch.tier] ?? settings
    let script = "\(launch.workspace.directory)/job.sh"
    let body = """
      #!/bin/sh
      # \(launch.label), submitted by hpod. The trial's command comes as this script's
      # arguments and is executed as given: no shell reads or splits it.
      exec "$@"

      """
    guard FileManager.default.createFile(atPath: script, contents: Data(body.utf8)) else {
      throw TrialLaunchError("cannot write the job script \(script)")
    }
    let comment = "hpod \(launch.label) \(UUID().uuidString.lowercased())"
    let arguments =
      Self.sbatchArguments(settings: settings, launch: launch, comment: comment) + [script] + launch.argv
    let result: SlurmCommand.Result
    do {
      result = try await command.run("sbatch", arguments, environment: Self.jobEnvironment(launch.environment))
    } catch {
      throw TrialLaunchError("cannot submit the trial to Slurm: \(error)")
    }
    guard result.succeeded else {
      throw TrialLaunchError("sbatch refused the trial: \(result.message)")
    }
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let output = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let jobId = output.split(separator: ";").first.map(String.init), Int(jobId) != nil else {
      throw TrialLaunchError("sbatch printed no job id (it printed \"\(output.prefix(200))\")")
    }
    let job = SlurmJobHandle(
      jobId: jobId, comment: comment, stdoutPath: launch.workspace.stdoutLog, stderrPath: launch.workspace.stderrLog)
    let trial = SlurmTrial(
      job: job, settings: settings, command: command, reportPrefix: launch.reportPrefix, running: false)
    await SlurmQueue.shared.watch(trial, command: command)
    return trial
  }

  /// The job behind the handle, when Slurm still knows it under the same comment (job ids
  /// start again when a cluster is recreated); one Slurm no longer knows is lost, not re-run,
  /// since it may have run to its end.
  public func reclaim(_ handle: TrialHandle) async -> (any RunningTrial)? {
    guard case .slurm(let job) = handle else { return nil }
    // Not yet seen running: a job that was still queued reports its start when it starts.
    let trial = SlurmTrial(job: job, settings: settings, command: command, reportPrefix: reportPrefix, running: false)
    if let result = try? await command.run("scontrol", ["-o", "show", "job", job.jobId]), result.succeeded,
      let status = SlurmJobStatus(scontrolLine: result.stdout), status.comment != job.comment
    {
      trial.lose("Slurm job \(job.jobId) is now another job (the cluster was recreated?); the trial's own job is gone")
      return trial
    }
    await SlurmQueue.shared.watch(trial, command: command)
    return trial
  }

  /// sbatch's options for one trial: those hpod owns, then the spec's.
  static func sbatchArguments(settings: SlurmSettings, launch: TrialLaunch, comment: String) -> [String] {
    var arguments = [
      "--parsable", "--no-requeue", "--job-name=\(launch.label)", "--comment=\(comment)",
      "--chdir=\(launch.workdir)", "--output=\(launch.workspace.stdoutLog)", "--error=\(launch.workspace.stderrLog)",
      "--input=/dev/null", "--export=ALL",
    ]
    if let partition = settings.partition { arguments.append("--partition=\(partition)") }
    if let account = settings.account { arguments.append("--account=\(account)") }
    if let qos = settings.qos { arguments.append("--qos=\(qos)") }
    if let time = settings.time { arguments.append("--time=\(time)") }
    if let cpus = settings.cpusPerTask ?? (launch.resources.cpus > 0 ? launch.resources.cpus : nil) {
      arguments.append("--cpus-per-task=\(cpus)")
    }
    if let mem = settings.mem { arguments.append("--mem=\(mem)") }
    if let gres = settings.gres ?? (launch.resources.gpus > 0 ? "gpu:\(launch.resources.gpus)" : nil) {
      arguments.append("--gres=\(gres)")
    }
    if let constraint = settings.constraint { arguments.append("--constraint=\(constraint)") }
    return arguments + settings.extraArguments
  }

  /// The trial's environment as the job's: sbatch passes its own environment on to the job
  /// (`--export=ALL`), so Slurm's input variables are removed first (SBATCH_* would change
  /// the submission, SLURM_* come from an enclosing job), all but SLURM_CONF, which names
  /// the cluster.
  static func jobEnvironment(_ environment: [String: String]) -> [String: String] {
    environment.filter { key, _ in
      key == "SLURM_CONF" || !(key.hasPrefix("SBATCH_") || key.hasPrefix("SLURM_") || key.hasPrefix("SALLOC_"))
    }
  }
}
