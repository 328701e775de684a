import ArgumentParser
import Foundation
import HPODAPI
import TrackingBridge
import TrialScheduler

/// Options every subcommand that touches the store shares.
struct StoreOptions: ParsableArguments {
  @Option(name: .customLong("home"), help: "Where hpod keeps its state (default: $HPOD_HOME, else ~/.hpod).")
  var home: String?

  var hpodHome: HpodHome {
    home.map { HpodHome(path: URL(fileURLWithPath: $0).standardized.path) } ?? .fromEnvironment()
  }
}

/// A study of the store by id, or by name (the newest with that name).
func findStudy(_ idOrName: String, in database: AppDatabase, home: HpodHome) throws -> StudyRecord {
  let record = try Int64(idOrName).flatMap { try database.study(id: $0) } ?? database.latestStudy(named: idOrName)
  guard let record else {
    throw ValidationError("no study '\(idOrName)' in \(home.databasePath); `hpod run` a spec first, or pass --home")
  }
  return record
}

/// Prints a value as indented JSON with the API's encoder (explicit keys, ISO 8601 dates).
func printJSON<T: Encodable>(_ value: T) throws {
  let encoder = API.encoder
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Exit codes scripts can rely on.
enum ExitCodes {
  static let invalidSpec: Int32 = 2
  /// A command line (or an `hpod query` question) that could not be understood, as
  /// ArgumentParser exits for a usage error (EX_USAGE).
  static let usage: Int32 = 64
  static let studyFailed: Int32 = 3
  /// Another process drives the study (EX_TEMPFAIL: try again once it is done).
  static let studyBusy: Int32 = 75
  static let interrupted: Int32 = 130
}
