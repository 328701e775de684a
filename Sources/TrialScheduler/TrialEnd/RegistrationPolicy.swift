import Foundation
import SearchStrategies
import TrackingBridge

/// Whether a finished run meets the study's registration thresholds, and why not.
struct RegistrationPolicy {
  let registration: StudySpec.Registration

  enum Verdict: Equatable {
    case register(artifactPath: String?)
    case reject(String)
  }

  func judge(_ trial: TrialRecord, finalMetrics: [String: Double]) -> Verdict {
    guard trial.tier == registration.tier else {
      return .reject(
        "\(trial.tier.rawValue) runs are not registered (registration.tier is \(registration.tier.rawValue))")
    }
    guard trial.state == .completed else { return .reject("the run did not complete (\(trial.state.rawValue))") }
    var misses: [String] = []
    for condition in registration.conditions {
      guard let actual = finalMetrics[condition.metric] else {
        misses.append("\(condition.metric) was never reported")
        continue
      }
      if !condition.holds(for: actual) {
        misses.append("\(condition.metric) = \(describe(actual)) does not meet \(condition)")
      }
    }
    guard misses.isEmpty else { return .reject(misses.joined(separator: "; ")) }
    guard let artifact = registration.artifact else { return .register(artifactPath: nil) }
    let path = "\(trial.runDirectory ?? "")/artifacts/\(artifact)"
    guard FileManager.default.fileExists(atPath: path) else {
      return .reject("the model file \(artifact) is missing from the run's artifacts (\(path))")
    }
    return .register(artifactPath: path)
  }
}
