import ArgumentParser
import Foundation
import TrialScheduler

struct Validate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a study spec and print every problem with its file:line:column.")

  @Argument(help: "The study spec (YAML).")
  var spec: String

  func run() async throws {
    do {
      let (study, _) = try StudySpec.load(path: spec)
      let trials = study.search.maxTrials.map { "\($0) trials" } ?? "the whole grid"
      print(
        "\(spec): ok — study '\(study.name)', \(study.space.dimension) parameters, \(study.search.algorithm.rawValue) search over \(trials)"
      )
    } catch {
      FileHandle.standardError.write(Data((error.description + "\n").utf8))
      throw ExitCode(ExitCodes.invalidSpec)
    }
  }
}
