import ArgumentParser
import Foundation
import TrialScheduler

struct Validate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a study spec and print every problem with its file:line:column.",
    discussion: "Exit codes: 0 the spec is valid; 2 it is not (every problem is listed).")

  @Argument(help: "The study spec (YAML).")
  var spec: String

  @Flag(help: "Print the result as JSON: the study checked, or the error with its located issues.")
  var json = false

  /// What `validate --json` prints for a valid spec.
  struct Checked: Encodable {
    var spec: String
    var valid = true
    var study: String
    var parameters: Int
    var algorithm: String
    var maxTrials: Int?

    enum CodingKeys: String, CodingKey {
      case spec, valid, study, parameters, algorithm
      case maxTrials = "max_trials"
    }
  }

  func run() async throws {
    let study: StudySpec
    do {
      (study, _) = try StudySpec.load(path: spec)
    } catch {
      throw CommandFailure(error)
    }
    if json {
      return try printJSON(
        Checked(
          spec: spec, study: study.name, parameters: study.space.dimension,
          algorithm: study.search.algorithm.rawValue, maxTrials: study.search.maxTrials))
    }
    let trials = study.search.maxTrials.map { "\($0) trials" } ?? "the whole grid"
    print(
      "\(spec): ok — study '\(study.name)', \(study.space.dimension) parameters, \(study.search.algorithm.rawValue) search over \(trials)"
    )
  }
}
