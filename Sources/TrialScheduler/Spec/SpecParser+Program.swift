import Foundation
import Yams

#if canImport(Glibc)
  import Glibc
#endif

// What can be checked of a trial's program before anything is spent on it.
extension SpecParser {
  /// The trial's program must be found where a local trial starts it: on the trial's PATH, or
  /// (a name with a `/`) relative to its workdir, and be executable. A cluster job starts it on
  /// another machine, so a Slurm study is not checked here.
  func checkProgram(_ trial: StudySpec.TrialTemplate?, executor: StudySpec.Executor, trialNode: Node?) {
    guard let trial, case .local = executor, case .process(let command) = trial.driver, let program = command.first,
      !program.isEmpty,
      !program.contains("{"), case .mapping(let fields) = trialNode, case .sequence(let items) = fields["command"],
      let node = items.first
    else { return }
    let path = "trial.command[0]"
    if program.contains("/") {
      let resolved =
        program.hasPrefix("/") ? program : URL(fileURLWithPath: trial.workdir).appendingPathComponent(program).path
      if let problem = Self.notRunnable(resolved) {
        reader.report(at: node, path, "\(program) \(problem) (relative paths start at the workdir, \(trial.workdir))")
      }
      return
    }
    let searchPath = trial.environment["PATH"] ?? environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    let folders = searchPath.split(separator: ":").map(String.init)
    guard !folders.contains(where: { Self.notRunnable("\($0)/\(program)") == nil }) else { return }
    var message = "\(program) is not on PATH"
    if Self.notRunnable(URL(fileURLWithPath: trial.workdir).appendingPathComponent(program).path) == nil {
      message += "; it is in the workdir: write ./\(program)"
    } else {
      message += " (\(folders.prefix(6).joined(separator: ":"))\(folders.count > 6 ? ":…" : ""))"
    }
    reader.report(at: node, path, message)
  }

  /// Why the file at `path` cannot be run, or nil when it can.
  static func notRunnable(_ path: String) -> String? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "does not exist" }
    if isDirectory.boolValue { return "is a folder, not a program" }
    guard access(path, X_OK) == 0 else { return "is not executable (chmod +x it, or run it with its interpreter)" }
    return nil
  }

  /// `${lr}` in an argument: hpod runs no shell, so the `$` would reach the program.
  func checkShellSyntax(_ argument: String, at node: Node, _ path: String) {
    guard let range = argument.range(of: #"\$\{[A-Za-z_.][A-Za-z0-9_.]*\}"#, options: .regularExpression) else {
      return
    }
    let placeholder = argument[range].dropFirst()
    reader.report(
      at: node, path,
      "\(argument[range]) looks like shell syntax; hpod runs the command without a shell, so the $ would reach the program: write \(placeholder)"
    )
  }
}
