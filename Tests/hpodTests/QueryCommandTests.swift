import Foundation
import StudyModel
import Testing
import TrackingBridge

/// A real study run once by `hpod run` for every test of the suite: a 3 × 2 grid over lr and
/// batch_size whose trial (sh + awk) reports val_loss and f1 per epoch; lr 0.3 with batch 64
/// fails. The best quick test is trained in full and registered.
enum QueryStudy {
  /// The study is made once, by the first test that asks, in a task: a lazily initialised
  /// `static let` would block every waiting test's thread while `hpod run` works.
  private static let made = Task { try await makeStudy() }

  static var home: String {
    get async throws { try await made.value }
  }

  private static func makeStudy() async throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-query-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let script = "\(folder)/train.sh"
    try! """
    #!/bin/sh
    lr=$1; bs=$2; epochs=$3
    case "$lr:$bs" in 0.3:64) echo "diverged: loss is nan" >&2; exit 1;; esac
    s=1
    while [ $s -le $epochs ]; do
      awk -v lr=$lr -v bs=$bs -v s=$s 'BEGIN { loss = 1/(s*(1+10*lr)) + bs/640;
        printf "hpod {\\"step\\": %d, \\"val_loss\\": %.5f, \\"f1\\": %.5f}\\n", s, loss, 1-loss/2 }'
      s=$((s+1))
    done
    echo '{}' > "$HPOD_ARTIFACT_DIR/model.json"
    """.write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    let spec = "\(folder)/study.yaml"
    try! """
    name: query-study
    objective: {metric: f1, direction: maximize}
    search: {algorithm: grid, parallelism: 2}
    parameters:
      lr: {type: float, min: 0.01, max: 0.3, values: [0.01, 0.1, 0.3]}
      batch_size: {type: int, min: 16, max: 64, values: [16, 64]}
    trial: {command: [\(script), "{lr}", "{batch_size}", "{tier.epochs}"]}
    tiers:
      quick_test: {epochs: 3}
      full_training: {epochs: 5}
    promotion: {top_k: 1}
    registration: {model: query-model, when: ["f1 >= 0.5"], artifact: model.json, alias: champion}
    """.write(toFile: spec, atomically: true, encoding: .utf8)
    let home = "\(folder)/home"
    let (status, output) = try await HPODProcess.run(["run", spec], home: home)
    precondition(status == 0, output)
    return home
  }

  static func query(_ words: String...) async throws -> (status: Int32, output: String) {
    try await HPODProcess.run(["query"] + words, home: try await home)
  }

  /// The store of the study, to check answers against.
  static func trials() async throws -> [TrialRecord] {
    let database = try await AppDatabase.open(at: "\(home)/hpod.sqlite")
    return try database.trials(studyId: database.studies().first!.id!)
  }
}

@Suite("hpod query on a real study")
struct QueryCommandTests {
  @Test("which run had the highest f1: the trial with the highest f1, its value and configuration")
  func best() async throws {
    let best = try await QueryStudy.trials().filter { $0.state == .completed }.max { $0.value! < $1.value! }!
    let (status, output) = try await QueryStudy.query("which run had the highest f1")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ trial with the highest f1\n"), "\(output)")
    #expect(output.contains("trial \(best.number) (\(best.tier.rawValue)): f1 = "), "\(output)")
    #expect(output.contains("batch_size=16 lr=0.3"), "\(output)")
  }

  @Test("top 3 by a metric that is not the objective: a table in that metric's direction")
  func topByMetric() async throws {
    let (status, output) = try await QueryStudy.query("top 3 runs by", "validation loss", "in quick tests")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ best 3 trials by val_loss, quick_test only (min)\n"), "\(output)")
    let rows = output.split(separator: "\n").filter { $0.contains("quick_test  completed") }
    #expect(rows.count == 3, "\(output)")
    #expect(rows.first?.contains("batch_size=16 lr=0.3") == true, "\(output)")
  }

  @Test("compare the last 3 runs: the comparison of hpod compare")
  func compare() async throws {
    let last = try await QueryStudy.trials().map(\.number).sorted().suffix(3).map(String.init)
    let (status, output) = try await QueryStudy.query("compare the last 3 runs")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ compare trials \(last.joined(separator: ", ")) (the last 3 trials)\n"), "\(output)")
    #expect(output.contains("Metrics (final values; change vs the first trial):"))
    #expect(output.contains("Configuration (* differs):"))
    #expect(output.contains("Recommendation: "))
  }

  @Test("show the loss curve of a trial: the history as a chart; an unknown metric gets did you mean")
  func curve() async throws {
    let full = try await QueryStudy.trials().first { $0.tier == .fullTraining }!
    let (status, output) = try await QueryStudy.query("show the loss curve of trial \(full.number)")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ val_loss curve of trial \(full.number)\n"), "\(output)")
    #expect(output.contains("val_loss of trial \(full.number), 5 points"))
    #expect(output.contains("step 1") && output.contains("step 5"))
    #expect(output.contains("●"))
    let (missing, message) = try await QueryStudy.query("plot the lss curve of trial \(full.number)")
    #expect(missing == 1)
    #expect(message.contains("no metric 'lss'; did you mean 'val_loss'? Metrics: f1, val_loss."), "\(message)")
  }

  @Test("heatmap of a metric over two parameters, named loosely; without axes, the most important ones")
  func heatmap() async throws {
    let (status, output) = try await QueryStudy.query("heatmap of f1 over LR and batch size")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ heatmap of f1 over lr × batch_size\n"), "\(output)")
    #expect(output.contains("f1 (maximize, tier all) over lr × batch_size"))
    #expect(output.contains("★R"), "the best cell holds the registered full training: \(output)")
    let (_, automatic) = try await QueryStudy.query("show a heatmap")
    #expect(automatic.contains(" over lr × batch_size") || automatic.contains(" over batch_size × lr"), "\(automatic)")
  }

  @Test("which parameters matter most: the importance table of hpod importance")
  func importance() async throws {
    let (status, output) = try await QueryStudy.query("which parameters matter most")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ parameter importance for f1\n"), "\(output)")
    #expect(output.contains("What explains f1 in study 'query-study' (quick_test):"))
    #expect(output.contains("batch_size") && output.contains("lr"))
  }

  @Test("how many trials failed: the count and the failed trials with their reason")
  func count() async throws {
    let (status, output) = try await QueryStudy.query("how many trials failed?")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ count of failed trials\n1 of 7 trials failed\n"), "\(output)")
    #expect(output.contains("failed"))
    #expect(output.contains("exit"), "\(output)")
  }

  @Test("the params of a trial, why a trial failed, and its log")
  func trialDetailAndLog() async throws {
    let failed = try await QueryStudy.trials().first { $0.state == .failed }!
    let (status, output) = try await QueryStudy.query("what were the params of trial \(failed.number)")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ details of trial \(failed.number)\ntrial \(failed.number) (quick_test): failed"))
    #expect(output.contains("parameters: batch_size=64 lr=0.3"))
    #expect(output.contains("diverged: loss is nan"), "the end of stderr: \(output)")
    let (_, why) = try await QueryStudy.query("why did trial \(failed.number) fail")
    #expect(why == output)
    let (logStatus, log) = try await QueryStudy.query("show the stderr of #\(failed.number)")
    #expect(logStatus == 0)
    #expect(log.contains("stderr.log (last 1 lines):\ndiverged: loss is nan"), "\(log)")
  }

  @Test("which model is registered: the registry table of hpod models")
  func model() async throws {
    let (status, output) = try await QueryStudy.query("which model is registered")
    #expect(status == 0, "\(output)")
    #expect(output.hasPrefix("→ models registered by the study\n"))
    #expect(output.contains("query-model") && output.contains("v1") && output.contains("champion"), "\(output)")
  }

  @Test("lists and the summary")
  func listsAndSummary() async throws {
    let (_, last) = try await QueryStudy.query("show the last 2 trials")
    #expect(last.hasPrefix("→ list the last 2 trials\n"))
    #expect(last.split(separator: "\n").count == 4, "\(last)")
    let (_, summary) = try await QueryStudy.query("how is the study going")
    #expect(summary.contains("'query-study': completed; 6 quick tests, 1 full trainings"), "\(summary)")
    #expect(summary.contains("registered: query-model v1"))
  }

  @Test("--json prints the question, the resolved intent and the result")
  func json() async throws {
    let (status, output) = try await QueryStudy.query("best validation loss", "--json")
    #expect(status == 0, "\(output)")
    let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
    #expect(object["question"] as? String == "best validation loss")
    let answer = object["answer"] as! [String: Any]
    #expect(answer["understood"] as? String == "best trial by val_loss (min)")
    let best = (answer["intent"] as! [String: Any])["best"] as! [String: Any]
    #expect(best["metric"] as? String == "val_loss")
    #expect((answer["result"] as! [String: Any])["ranking"] != nil)
  }

  @Test("a question it cannot map: I don't understand, examples, exit 64")
  func notUnderstood() async throws {
    let (status, output) = try await QueryStudy.query("make me a sandwich")
    #expect(status == 64)
    #expect(output.hasPrefix("I don't understand “make me a sandwich”. Questions I can answer, for example:\n"))
    #expect(output.contains("  hpod query \"compare the last 3 runs\""))
    let (unknown, message) = try await QueryStudy.query("compare trials 1 and 99")
    #expect(unknown == 1)
    #expect(message.contains("has no trial 99"), "\(message)")
  }
}
