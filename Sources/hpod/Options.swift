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
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
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

/// The devices local trials are placed on: `hpod run` and `hpod serve` share these.
struct PlacementOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "GPU device ids trials are placed on, e.g. 0,1,2,3; each running trial gets its own in CUDA_VISIBLE_DEVICES (default: the GPUs nvidia-smi -L lists; none without it). --gpus none places none.",
      valueName: "ids"))
  var gpus: String?

  @Option(
    help: "CPUs the trials' declared resources.cpus may add up to across running trials (default: the number of cores)."
  )
  var cpus: Int?

  func validate() throws {
    if let cpus, !(1...100_000).contains(cpus) { throw ValidationError("--cpus must be between 1 and 100000") }
    if let gpus, gpus != "none" {
      let ids = gpus.split(separator: ",", omittingEmptySubsequences: false)
      guard !ids.isEmpty, ids.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } })
      else {
        throw ValidationError(
          "--gpus expects device ids separated by commas, such as 0,1,2,3 (or none), found \"\(gpus)\"")
      }
      guard Set(ids).count == ids.count else { throw ValidationError("--gpus names a device twice: \"\(gpus)\"") }
    }
  }

  func makePool() -> ResourcePool {
    let devices: [String] =
      switch gpus {
      case nil: ResourcePool.detectedGPUs()
      case "none": []
      case let list?: list.split(separator: ",").map(String.init)
      }
    return ResourcePool(gpus: devices, cpus: cpus ?? ProcessInfo.processInfo.activeProcessorCount)
  }
}
