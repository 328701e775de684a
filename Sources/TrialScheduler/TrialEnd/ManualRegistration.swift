import Foundation
import SearchStrategies
public import TrackingBridge

/// Registers an existing run by hand (`hpod register STUDY N`): a run the study's thresholds
/// did not judge (they were added later) or did not accept. The study's `registration`
/// section names the model, alias and thresholds; `force` registers a run that misses them.
public enum ManualRegistration {
  public struct Refusal: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// The registered version. Refused (nothing written) when the trial does not exist, did not
  /// complete, is registered already, or misses the thresholds without `force`.
  public static func register(
    study: StudyRecord, trialNumber: Int, model: String?, force: Bool, database: AppDatabase
  ) throws -> ModelVersion {
    let spec = try StudyService.spec(of: study)
    guard let trial = try database.trials(studyId: study.id!).first(where: { $0.number == trialNumber }) else {
      throw Refusal(description: "study \(study.id!) has no trial \(trialNumber); see `hpod trials \(study.id!)`")
    }
    guard trial.state == .completed else {
      throw Refusal(
        description: "trial \(trialNumber) did not complete (\(trial.state.rawValue)): there is no result to register")
    }
    let registration =
      spec.registration
      ?? StudySpec.Registration(model: model ?? "", conditions: [], artifact: nil, alias: nil, tier: trial.tier)
    let modelName = model ?? registration.model
    guard !modelName.isEmpty else {
      throw Refusal(
        description: "the study's spec has no `registration` section: name the model with --model NAME")
    }
    if let tag = try database.tags(trialId: trial.id!)[HpodTag.registration], tag.hasPrefix("registered") {
      throw Refusal(description: "trial \(trialNumber) is \(tag) already")
    }
    var policy = registration
    policy.tier = trial.tier  // by hand, the user chose the run: any tier
    let metrics = try database.finalMetrics(trialId: trial.id!)
    var artifactPath: String?
    switch RegistrationPolicy(registration: policy).judge(trial, finalMetrics: metrics) {
    case .register(let path): artifactPath = path
    case .reject(let reason):
      guard force else {
        throw Refusal(
          description:
            "trial \(trialNumber) does not meet the registration thresholds: \(reason); pass --force to register it anyway"
        )
      }
      artifactPath = registration.artifact.map { "\(trial.runDirectory ?? "")/artifacts/\($0)" }
        .flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
    }
    let conditions = registration.conditions.map(\.description).joined(separator: " and ")
    let version = try database.registerModel(
      ModelVersion(
        modelName: modelName, trialId: trial.id!, studyId: study.id!, value: trial.value,
        metricsJSON: JSONCoding.text(metrics), paramsJSON: trial.paramsJSON,
        conditions: force && !conditions.isEmpty ? "by hand (--force; thresholds: \(conditions))" : "by hand",
        artifactPath: artifactPath),
      alias: registration.alias, higherIsBetter: spec.objective.direction == .maximize, tagging: [trial.id!],
      note: " by hand")
    return version
  }
}
