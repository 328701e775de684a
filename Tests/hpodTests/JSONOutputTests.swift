import Foundation
import Testing

/// `--json` as scripts use it: JSON on stdout for results and for errors alike, from local
/// commands as from client ones.
@Suite("--json on every command", .serialized)
struct JSONOutputTests {
  let folder: String

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-json-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  func write(_ name: String, _ text: String) throws -> String {
    let path = "\(folder)/\(name)"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Runs hpod and splits what it printed on stdout from stderr (JSON goes to stdout only).
  func hpod(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: HPODProcess.binary)
    process.arguments = arguments
    process.environment = ["HPOD_HOME": "\(folder)/home", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""]
    let out = try write("stdout-\(UUID().uuidString)", "")
    let err = try write("stderr-\(UUID().uuidString)", "")
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
    try process.run()
    let (status, _) = await waitForExit(process)
    return (status, try String(contentsOfFile: out, encoding: .utf8), try String(contentsOfFile: err, encoding: .utf8))
  }

  func object(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
  }

  /// A study of one parameter whose trial is `python3 <script>`; the script is written beside it
  /// unless `script` is nil.
  func spec(_ name: String, command: String = "train.py", script: String? = "train.py") throws -> String {
    if let script {
      _ = try write(
        script,
        """
        import sys, json
        x = float(sys.argv[1])
        for step in range(2):
            print("hpod " + json.dumps({"step": step, "loss": (x - 0.3) ** 2 + 1 / (step + 1)}), flush=True)
        """)
    }
    return try write(
      "\(name).yaml",
      """
      name: \(name)
      objective: {metric: loss, direction: minimize}
      search: {algorithm: random, seed: 1, max_trials: 2}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [python3, \(command), "{x}"]}
      """)
  }

  @Test("validate --json prints the study checked, or the located issues in the API's error shape with exit 2")
  func validate() async throws {
    let good = try spec("json-valid")
    let (okStatus, ok, _) = try await hpod(["validate", "--json", good])
    #expect(okStatus == 0, "\(ok)")
    let checked = try object(ok)
    #expect(checked["valid"] as? Bool == true && checked["study"] as? String == "json-valid")
    #expect(checked["max_trials"] as? Int == 2 && checked["parameters"] as? Int == 1)

    // A misspelt script is found before anything runs, with what is there instead
    let bad = try spec("json-invalid", command: "trian.py", script: "train.py")
    let (badStatus, refused, _) = try await hpod(["validate", "--json", bad])
    #expect(badStatus == 2, "\(refused)")
    let error = try #require(try object(refused)["error"] as? [String: Any])
    #expect(error["message"] as? String == "invalid study spec (1 problem)")
    let issue = try #require((error["issues"] as? [[String: Any]])?.first)
    #expect(issue["path"] as? String == "trial.command[1]" && issue["line"] as? Int == 5, "\(issue)")
    #expect((issue["message"] as? String)?.contains("trian.py, which does not exist") == true, "\(issue)")
    #expect((issue["message"] as? String)?.hasSuffix("did you mean train.py?") == true, "\(issue)")

    // Without --json the same problem is a located line on stderr
    let (_, _, text) = try await hpod(["validate", bad])
    #expect(text.contains("\(bad):5:"), "\(text)")
  }

  @Test("run --json prints the study's events as JSON lines ending with study_finished; a usage error is JSON too")
  func run() async throws {
    let path = try spec("json-run")
    let (status, stdout, stderr) = try await hpod(["run", "--json", path])
    #expect(status == 0, "\(stdout)\(stderr)")
    let events = try stdout.split(separator: "\n").map { try object(String($0)) }
    let types = events.compactMap { $0["type"] as? String }
    #expect(types.first == "study_started" && types.last == "study_finished", "\(types)")
    #expect(types.filter { $0 == "trial_finished" }.count == 2, "\(types)")
    let finished = try #require(events.last?["study"] as? [String: Any])
    #expect((finished["counts"] as? [String: Int])?["completed"] == 2, "\(finished)")

    // Run again: the finished study is said on stderr, and stdout still holds JSON alone
    let (again, repeated, note) = try await hpod(["run", "--json", path])
    #expect(again == 0 && note.contains("already completed"), "\(note)")
    #expect(try object(repeated.trimmingCharacters(in: .newlines))["type"] as? String == "study_finished")

    let (usage, refusal, _) = try await hpod(["run", "--json", "--bogus", path])
    #expect(usage == 64, "\(refusal)")
    #expect(((try object(refusal)["error"] as? [String: Any])?["message"] as? String)?.contains("--bogus") == true)
  }

  @Test("a local command's failure is JSON on stdout with --json, text on stderr without")
  func localErrors() async throws {
    let (status, stdout, stderr) = try await hpod(["compare", "nosuch", "1", "2", "--json"])
    #expect(status != 0 && stderr.isEmpty, "\(stderr)")
    let message = try #require((try object(stdout)["error"] as? [String: Any])?["message"] as? String)
    #expect(message.contains("no study 'nosuch'"), "\(message)")
    let (_, quiet, said) = try await hpod(["compare", "nosuch", "1", "2"])
    #expect(quiet.isEmpty && said.contains("no study 'nosuch'"), "\(said)")
  }
}
