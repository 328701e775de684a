import ArgumentParser
import Foundation
import TrialScheduler

/// Options every subcommand that touches the store shares.
struct StoreOptions: ParsableArguments {
  @Option(name: .customLong("home"), help: "Where hpod keeps its state (default: $HPOD_HOME, else ~/.hpod).")
  var home: String?

  var hpodHome: HpodHome {
    home.map { HpodHome(path: URL(fileURLWithPath: $0).standardized.path) } ?? .fromEnvironment()
  }
}

/// Exit codes scripts can rely on.
enum ExitCodes {
  static let invalidSpec: Int32 = 2
  static let studyFailed: Int32 = 3
  static let interrupted: Int32 = 130
}
