import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

// A trial's argv, environment and folder, and the one stream of what it reports.
extension TrialRun {
  enum Input: Sendable {
    case output(TrialOutput)
    case logged([MetricPoint])
  }

  /// The trial's output and the points it logs through the API, as one stream that ends with
  /// its output. A trial's logging calls were answered (their points handed on) before its
  /// process exited, so when the output ends `endLogged` closes the logged stream and what is
  /// still buffered there is drained first: a point logged just before exit still counts.
  static func merge(
    _ output: AsyncStream<TrialOutput>, _ logged: AsyncStream<[MetricPoint]>?, endLogged: @escaping @Sendable () -> Void
  ) -> (stream: AsyncStream<Input>, pumps: Task<Void, Never>) {
    let (stream, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
    let pumps = Task {
      await withTaskGroup(of: Void.self) { group in
        if let logged {
          group.addTask {
            for await points in logged { continuation.yield(.logged(points)) }
          }
        }
        for await item in output { continuation.yield(.output(item)) }
        endLogged()
        await group.waitForAll()
        continuation.finish()
      }
    }
    return (stream, pumps)
  }

  /// The trial's argv and environment, and where its files go.
  func makeLaunch(
    _ trial: TrialRecord, configuration: Configuration, tierValues: [String: ParameterValue],
    workspace: TrialWorkspace, checkpoint: CheckpointFolder, trackingEnvironment: [String: String]
  ) -> TrialLaunch {
    var environment = baseEnvironment
    if !trackingEnvironment.isEmpty {
      // The sink says which run and experiment the trial's mlflow calls go to: hpod's own
      // (a run id or experiment it was started with) must not leak into the trial.
      for name in ["MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"] { environment[name] = nil }
      environment.merge(trackingEnvironment) { _, tracked in tracked }
    }
    environment["HPOD_STUDY"] = study.name
    environment["HPOD_STUDY_ID"] = String(study.id!)
    environment["HPOD_TRIAL_ID"] = String(trial.id!)
    environment["HPOD_TRIAL_NUMBER"] = String(trial.number)
    environment["HPOD_TIER"] = trial.tier.rawValue
    environment["HPOD_REPEAT"] = String(trial.repeatIndex)
    if let seed = trial.seed { environment["HPOD_SEED"] = String(seed) }
    environment["HPOD_PARAMS"] = trial.paramsJSON
    environment["HPOD_PARAMS_FILE"] = workspace.paramsFile
    environment["HPOD_ARTIFACT_DIR"] = workspace.artifacts
    // Only this attempt's checkpoint says it resumes (not a value hpod itself was started with).
    for name in ["HPOD_RESUMED", "HPOD_CHECKPOINT", "HPOD_CHECKPOINT_STEP"] { environment[name] = nil }
    environment.merge(checkpoint.environment) { _, own in own }
    for (key, value) in tierValues {
      environment["HPOD_TIER_\(key.uppercased())"] = value.description
    }
    let trialValues: [String: ParameterValue] = [
      "repeat": .int(trial.repeatIndex), "seed": .int(Int(trial.seed ?? spec.seed(repeat: trial.repeatIndex))),
      "checkpoint_dir": .string(checkpoint.path),
    ]
    return TrialLaunch(
      argv: CommandTemplate.expand(
        command, configuration: configuration, tierValues: tierValues,
        trialValues: trialValues),
      workdir: spec.trial.workdir, environment: environment, workspace: workspace, paramsJSON: trial.paramsJSON,
      logLimitBytes: spec.trial.logLimitBytes, label: "hpod-\(study.id!)-\(trial.number)", tier: trial.tier,
      resources: spec.resources(for: trial.tier))
  }
}
