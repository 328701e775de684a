import ArgumentParser
import Foundation
import HPODAPI
import StudyModel
import TrackingBridge
import TrialScheduler

/// Where the daemon is and how to talk to it; shared by every client subcommand.
struct ClientOptions: ParsableArguments {
  @Option(help: "The daemon's URL (default: $HPOD_SERVER, else http://127.0.0.1:8765).")
  var server: String?

  @Option(help: "Bearer token of a daemon started with --token (default: $HPOD_TOKEN).")
  var token: String?

  @Flag(help: "Print the API's JSON, for scripts.")
  var json = false

  func validate() throws {
    if let server, URL(string: server)?.scheme == nil {
      throw ValidationError("--server must be a URL such as http://127.0.0.1:8765, found \"\(server)\"")
    }
  }

  var client: HPODClient {
    let environment = ProcessInfo.processInfo.environment
    let address = server ?? environment["HPOD_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8765"
    return HPODClient(server: URL(string: address)!, token: token ?? environment["HPOD_TOKEN"])
  }

  /// Runs a client call; a daemon error is printed as the user needs it and exits non-zero.
  @discardableResult
  func perform<T>(_ body: (HPODClient) async throws -> T) async throws -> T {
    do {
      return try await body(client)
    } catch let failure as HPODClient.Failure {
      throw CommandFailure(
        failure.message, issues: failure.issues, exitCode: failure.status == 422 ? ExitCodes.invalidSpec : 1)
    }
  }

  /// Runs a read: against the daemon, or, when none answers, against the local store at `home`
  /// (the studies `hpod run` ran there), saying so on stderr. Errors are printed as `perform`
  /// prints them.
  /// `local`, when given, is what reads the store instead of `body` (`hpod watch` polls it).
  @discardableResult
  func read<T: Sendable>(
    home: HpodHome, _ body: @escaping @Sendable (HPODClient) async throws -> T,
    local: (@Sendable (HPODClient) async throws -> T)? = nil
  ) async throws -> T {
    try await perform { client in
      do {
        return try await body(client)
      } catch let failure as HPODClient.Failure where failure.unreachable {
        guard FileManager.default.fileExists(atPath: home.databasePath) else { throw failure }
        FileHandle.standardError.writeText(
          "hpod: no daemon answers at \(client.server.absoluteString); read the local store \(home.databasePath)\n")
        return try await LocalStoreReader.reading(home: home, local ?? body)
      }
    }
  }

  /// POSTs a study action (`cancel`, `resume`) and prints the study it returns.
  func act(on study: Int64, _ action: String, message: @escaping (API.Study) -> String) async throws {
    try await perform { client in
      let result: API.Study = try await client.post("api/v1/studies/\(study)/\(action)")
      if json { return try printJSON(result) }
      print(message(result))
    }
  }

  /// Pauses or resumes one trial of a study on the daemon.
  func act(on study: Int64, trial number: Int, _ action: String) async throws {
    try await perform { client in
      let result: API.TrialPause = try await client.post("api/v1/studies/\(study)/trials/\(number)/\(action)")
      if json { return try printJSON(result) }
      print(result.message)
    }
  }

  func printJSON<T: Encodable>(_ value: T) throws {
    try hpod.printJSON(value)
  }
}

extension TrialRecord {
  /// A trial as the API described it, for views shared with `hpod run`.
  init(_ trial: API.Trial) {
    self.init(
      studyId: trial.studyId, number: trial.number, tier: Tier(rawValue: trial.tier) ?? .quickTest,
      state: TrialState(rawValue: trial.state) ?? .pending, paramsJSON: HPODClient.json(trial.params),
      value: trial.value, retryOf: trial.retryOf, sourceTrialId: trial.sourceTrialId,
      repeatOf: trial.configurationId == trial.id ? nil : trial.configurationId, repeatIndex: trial.repeatIndex,
      seed: trial.seed, createdAt: trial.createdAt)
    id = trial.id
    startedAt = trial.startedAt
    finishedAt = trial.finishedAt
    exitCode = trial.exitCode
    signal = trial.signal
    reason = trial.reason
  }
}

extension HPODClient {
  static func json<T: Encodable>(_ value: T) -> String {
    JSONCoding.text(value)
  }
}
