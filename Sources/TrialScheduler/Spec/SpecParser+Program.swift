import DidYouMean
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
    if checksScripts { checkScript(command, workdir: trial.workdir, nodes: Array(items)) }
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

  /// Programs that take the script to run as their first argument that is not an option.
  static let interpreters: Set<String> = [
    "python", "python3", "bash", "sh", "zsh", "Rscript", "node", "julia", "perl", "ruby",
  ]
  static let scriptExtensions: Set<String> = ["py", "sh", "R", "r", "js", "mjs", "jl", "pl", "rb"]

  /// `python3 trian.py`: the script an interpreter is given must exist in the workdir, or the
  /// first trial fails with the interpreter's own message. Only plain file names are checked
  /// (no placeholder, no option), so `python3 -m pkg` and generated scripts are left alone.
  func checkScript(_ command: [String], workdir: String, nodes: [Node]) {
    let interpreter = URL(fileURLWithPath: command[0]).lastPathComponent
    guard
      Self.interpreters.contains(interpreter)
        || interpreter.range(of: #"^python3\.\d+$"#, options: .regularExpression) != nil,
      let index = command.indices.dropFirst().first(where: { !command[$0].hasPrefix("-") }), index < nodes.count
    else { return }
    let script = command[index]
    // An option before the script (`python3 -u train.py`) is fine; one that takes a value
    // (`-m module`, `-c code`) means there is no script to check.
    guard !command[1..<index].contains(where: { ["-m", "-c", "-e", "--eval"].contains($0) }),
      Self.scriptExtensions.contains(URL(fileURLWithPath: script).pathExtension), !script.contains("{")
    else { return }
    let resolved = script.hasPrefix("/") ? script : URL(fileURLWithPath: workdir).appendingPathComponent(script).path
    guard !FileManager.default.fileExists(atPath: resolved) else { return }
    let folder = URL(fileURLWithPath: resolved).deletingLastPathComponent()
    let siblings = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    let name = URL(fileURLWithPath: script).lastPathComponent
    let near = DidYouMean.nearest(to: name, in: siblings).map { "; did you mean \($0)?" } ?? ""
    reader.report(
      at: nodes[index], "trial.command[\(index)]",
      "\(interpreter) would run \(script), which does not exist (relative paths start at the workdir, \(workdir))\(near)"
    )
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
