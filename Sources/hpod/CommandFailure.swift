import ArgumentParser
import Foundation
import HPODAPI
import TrialScheduler

/// What a command ends with when it cannot do what was asked. `HPOD.main` prints it once: as
/// text on stderr, or, when the command line asked for `--json`, as the API's error body on
/// stdout, so a script that reads JSON gets JSON for the failure too.
struct CommandFailure: Error, CustomStringConvertible {
  var message: String
  /// A spec's located problems, each on a line of its own.
  var issues: [API.Issue] = []
  var exitCode: Int32 = ExitCode.failure.rawValue

  init(_ message: String, issues: [API.Issue] = [], exitCode: Int32 = ExitCode.failure.rawValue) {
    self.message = message
    self.issues = issues
    self.exitCode = exitCode
  }

  /// A spec that cannot be used, with its problems located.
  init(_ invalid: SpecValidationError) {
    let count = invalid.issues.count == 1 ? "1 problem" : "\(invalid.issues.count) problems"
    self.init("invalid study spec (\(count))", issues: invalid.issues, exitCode: ExitCodes.invalidSpec)
  }

  var description: String {
    issues.isEmpty ? "hpod: \(message)" : (["\(message):"] + issues.map { "  \($0)" }).joined(separator: "\n")
  }

  var errorBody: API.ErrorBody {
    API.ErrorBody(error: .init(message: message, issues: issues.isEmpty ? nil : issues))
  }
}

extension HPOD {
  /// Whether the command line asks for JSON output (`--json` before any `--`), known even when
  /// the rest of it does not parse.
  static func wantsJSON(_ arguments: [String]) -> Bool {
    arguments.dropFirst().prefix { $0 != "--" }.contains("--json")
  }

  /// Parses and runs the command; every error is printed once, as JSON when `--json` was asked.
  static func main() async {
    let json = wantsJSON(CommandLine.arguments)
    do {
      var command = try parseAsRoot()
      if var asynchronous = command as? any AsyncParsableCommand {
        try await asynchronous.run()
      } else {
        try command.run()
      }
    } catch let failure as CommandFailure {
      if json {
        try? printJSON(failure.errorBody)
      } else {
        FileHandle.standardError.writeText(failure.description + "\n")
      }
      Foundation.exit(failure.exitCode)
    } catch {
      // A usage error or a thrown ValidationError: the same message ArgumentParser prints, in
      // the error shape; help, versions and exit codes a command chose pass through.
      let code = exitCode(for: error)
      if json, code != .success, !(error is ExitCode) {
        try? printJSON(API.ErrorBody(error: .init(message: message(for: error))))
        Foundation.exit(code.rawValue)
      }
      exit(withError: error)
    }
  }
}
