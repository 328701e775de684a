public import Foundation
public import StudyModel
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
    let script = SlurmJobScript(
      label: launch.label, directory: launch.workspace.directory, logLimit: launch.logLimitBytes,
      reportPrefix: launch.reportPrefix)
    let submission = SlurmSubmission(directory: launch.workspace.directory, label: launch.label, command: command)
    // A submission whose answer was lost (the controller went away meanwhile) may have made
    // the job: it is adopted rather than submitted twice.
    let comment: String
    let jobId: String
    if let earlier = try await submission.earlierJob() {
      comment = earlier.comment
      jobId = earlier.jobId
    } else {
      guard FileManager.default.createFile(atPath: script.path, contents: Data(script.text.utf8)) else {
        throw TrialLaunchError("cannot write the job script \(script.path)")
      }
      comment = try submission.newComment()
      let arguments =
        Self.sbatchArguments(settings: settings, launch: launch, comment: comment) + [script.path] + launch.argv
      // sbatch runs in the job's environment, but submits to the cluster the executor polls.
      var environment = Self.jobEnvironment(launch.environment)
      environment["SLURM_CONF"] = command.environment["SLURM_CONF"]
      jobId = try await submission.submit(arguments, environment: environment)
    }
    let job = SlurmJobHandle(
      jobId: jobId, comment: comment, stdoutPath: launch.workspace.stdoutLog, stderrPath: launch.workspace.stderrLog,
      name: launch.label, reportsPath: script.reportsPath, exitMarkerPath: script.exitMarkerPath)
    let trial = SlurmTrial(
      job: job, settings: settings, command: command, reportPrefix: launch.reportPrefix, running: false)
    await SlurmQueue.shared.watch(trial, command: command)
    return trial
  }

  /// The job behind the handle, when Slurm still knows it under the same comment (job ids
  /// start again when a controller loses its state). One Slurm no longer knows is judged by its
  /// exit marker: see `SlurmTrial.gone`.
  public func reclaim(_ handle: TrialHandle) async -> Reclaim {
    guard case .slurm(let job) = handle else { return await reclaimLocalLeftovers(handle) }
    // Not yet seen running: a job that was still queued reports its start when it starts.
    let trial = SlurmTrial(job: job, settings: settings, command: command, reportPrefix: reportPrefix, running: false)
    await SlurmQueue.shared.watch(trial, command: command)
    return .adopted(trial)
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
