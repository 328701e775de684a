import Foundation
import MLflowTestServer
import SlurmTestCluster
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// Runs each example study at a tiny budget through the real `hpod run`, so the examples never
/// rot: metrics arrive, tiers and promotion happen, artifacts exist, registration decides.
@Suite("Examples at a tiny budget", .serialized)
struct ExamplesTests {
  let folder: String
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path
  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples").path

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-examples-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  /// Copies an example's spec with `replacements` applied and its workdir made absolute, runs
  /// it, and opens the store it wrote.
  func run(
    _ example: String, _ replacements: [(String, String)], file: String = "study.yaml",
    environment: [String: String] = [:]
  ) async throws -> (AppDatabase, [TrialRecord], String) {
    var yaml = try String(contentsOfFile: "\(Self.examples)/\(example)/\(file)", encoding: .utf8)
    for (old, new) in replacements + [("workdir: .", "workdir: \(Self.examples)/\(example)")] {
      #expect(yaml.contains(old), "\(example)/\(file) no longer contains \(old)")
      yaml = yaml.replacingOccurrences(of: old, with: new)
    }
    let spec = "\(folder)/\(example).yaml"
    try yaml.write(toFile: spec, atomically: true, encoding: .utf8)
    let home = "\(folder)/home-\(example)"
    let (status, output) = try await HPODProcess.runProgram(
      HPODProcess.binary, ["run", "--plain", spec], environment: environment.merging(["HPOD_HOME": home]) { $1 })
    #expect(status == 0, "\(output)")
    let database = try AppDatabase.open(at: "\(home)/hpod.sqlite")
    return (database, try database.trials(studyId: 1), output)
  }

  func artifacts(_ trial: TrialRecord) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: "\(trial.runDirectory ?? "")/artifacts")) ?? []
  }

  @Test("spirals: quick tests, pruning, promotion, full training, registration")
  func spirals() async throws {
    let (database, trials, _) = try await run(
      "spirals",
      [
        ("max_trials: 16, parallelism: 2, startup_trials: 8", "max_trials: 4, parallelism: 2, startup_trials: 3"),
        ("full_training: {epochs: 30, data_fraction: 1.0}", "full_training: {epochs: 4, data_fraction: 0.5}"),
        ("min_value: 0.8}", "min_value: 0.3}"),
        ("\"val_accuracy >= 0.9\"", "\"val_accuracy >= 0.3\""),
      ])
    #expect(trials.filter { $0.tier == .quickTest }.count == 4)
    let full = try #require(trials.first { $0.tier == .fullTraining })
    #expect(full.state == .completed)
    // one point per epoch, and the final line
    #expect(try database.metrics(trialId: full.id!, name: "val_accuracy").count == 5)
    #expect(artifacts(full).contains("model.json"))
    #expect(try database.modelVersions(named: "spirals-mlp").map(\.trialId) == [full.id!])
  }

  @Test("spirals-tradeoff: accuracy against latency within a size budget, the front at the end")
  func spiralsTradeOff() async throws {
    let (database, trials, output) = try await run(
      "spirals",
      [
        ("max_trials: 20, parallelism: 2, startup_trials: 8", "max_trials: 6, parallelism: 2, startup_trials: 3"),
        (
          "hidden:    {type: int, min: 4, max: 256, log: true}", "hidden:    {type: int, min: 100, max: 256, log: true}"
        ),
      ], file: "study-tradeoff.yaml")
    #expect(trials.count == 6 && trials.allSatisfy { $0.state == .completed })
    // hidden from 140: 2 layers break the 20,000-weight budget (140² + 7·140 + 3), 1 layer does not.
    for trial in trials {
      let weights = try #require(try database.finalMetrics(trialId: trial.id!)["weights"])
      let feasible = try database.tags(trialId: trial.id!)["hpod.feasible"]
      #expect((weights <= 20000) == (feasible == "yes"), "\(weights) weights: \(feasible ?? "untagged")")
    }
    #expect(output.contains("Pareto front (quick_test, "), "\(output)")
    #expect(output.contains("val_accuracy (max)") && output.contains("latency_ms (min)"))
  }

  @Test("spirals on Slurm: every trial a job on the test cluster, the best promoted and registered")
  func spiralsOnSlurm() async throws {
    setenv("SLURM_CONF", try await SlurmCluster.shared.slurmConf(), 1)
    let (database, trials, _) = try await run(
      "spirals",
      [
        ("max_trials: 16, parallelism: 4, startup_trials: 8", "max_trials: 4, parallelism: 4, startup_trials: 3"),
        ("full_training: {epochs: 30, data_fraction: 1.0}", "full_training: {epochs: 4, data_fraction: 0.5}"),
        ("min_value: 0.8}", "min_value: 0.3}"),
        ("\"val_accuracy >= 0.9\"", "\"val_accuracy >= 0.3\""),
      ], file: "study-slurm.yaml")
    #expect(trials.count == 5)
    for trial in trials {
      guard case .slurm(let job) = trial.executorHandle else {
        Issue.record("trial \(trial.number) did not run as a Slurm job: \(trial.handle ?? "no handle")")
        continue
      }
      #expect(job.node != nil)
    }
    let full = try #require(trials.first { $0.tier == .fullTraining })
    #expect(full.state == .completed)
    #expect(try database.metrics(trialId: full.id!, name: "val_accuracy").count == 5)
    #expect(try database.modelVersions(named: "spirals-mlp-slurm").map(\.trialId) == [full.id!])
  }

  @Test(
    "mlflow-script: an unmodified mlflow script's calls land in its trials' runs under hpod run, with no MLflow server")
  func mlflowScript() async throws {
    let venv = (MLflowServer.executable as NSString).deletingLastPathComponent
    let (database, trials, output) = try await run(
      "mlflow-script",
      [("max_trials: 8, parallelism: 2, startup_trials: 4", "max_trials: 3, parallelism: 2, startup_trials: 3")],
      environment: ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"])
    #expect(trials.count == 3)
    #expect(trials.allSatisfy { $0.state == .completed || $0.state == .pruned }, "\(trials.map(\.reason)) \(output)")
    for trial in trials {
      let scores = try database.metrics(trialId: trial.id!, name: "val_score")
      #expect(!scores.isEmpty && trial.value == scores.last?.value)
      #expect(try database.tags(trialId: trial.id!)["framework"] == "plain-python")
    }
    #expect(trials.contains { FileManager.default.fileExists(atPath: "\($0.runDirectory!)/artifacts/model.json") })
  }

  @Test(
    "sklearn-autolog: an autologged scikit-learn script as an hpod study on the daemon, its full training registered, and the champion loaded with mlflow.pyfunc.load_model('models:/NAME@champion') predicts",
    .timeLimit(.minutes(4))
  )
  func sklearnAutolog() async throws {
    // Given a daemon whose trials find the mlflow venv (mlflow and scikit-learn) first on PATH
    let venv = (MLflowServer.executable as NSString).deletingLastPathComponent
    let daemon = DaemonProcess(home: "\(folder)/home-sklearn-autolog")
    daemon.environment = ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
    try await daemon.start()
    defer { daemon.stop() }
    // And the example at a tiny budget: two quick tests, the best trained in full
    var yaml = try String(contentsOfFile: "\(Self.examples)/sklearn-autolog/study.yaml", encoding: .utf8)
    for (old, new) in [
      ("max_trials: 10, parallelism: 2, startup_trials: 5", "max_trials: 2, parallelism: 2, startup_trials: 2"),
      ("workdir: .", "workdir: \(Self.examples)/sklearn-autolog"),
    ] {
      #expect(yaml.contains(old), "sklearn-autolog/study.yaml no longer contains \(old)")
      yaml = yaml.replacingOccurrences(of: old, with: new)
    }
    try yaml.write(toFile: "\(folder)/sklearn-autolog.yaml", atomically: true, encoding: .utf8)

    // When it is submitted and runs to its end
    #expect(try await daemon.client(["submit", "\(folder)/sklearn-autolog.yaml"]).status == 0)
    let database = try AppDatabase.open(at: "\(daemon.home)/hpod.sqlite")
    #expect(try await waitUntil(seconds: 200) { try database.study(id: 1)?.state.isFinished == true })

    // Then every trial completed with its logged accuracy, autolog's metrics beside it
    let trials = try database.trials(studyId: 1)
    #expect(
      trials.count == 3 && trials.allSatisfy { $0.state == .completed },
      "\(trials.map(\.reason)) \(daemon.log.suffix(2000))")
    for trial in trials {
      #expect(try database.metrics(trialId: trial.id!, name: "training_accuracy_score").count == 1)
      #expect(try database.params(trialId: trial.id!).contains { $0.name == "svc__C" })
    }
    // And the full training is registered as the champion
    let full = try #require(trials.first { $0.tier == .fullTraining })
    #expect(try database.modelVersions(named: "sklearn-autolog-digits").map(\.trialId) == [full.id!])

    // When the example's loader asks hpod's registry for the champion
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["\(Self.examples)/sklearn-autolog/load_champion.py"],
      environment: ["MLFLOW_TRACKING_URI": daemon.server])
    // Then it loads the model the full training logged and predicts with it
    #expect(status == 0, "\(output.suffix(3000))")
    #expect(output.contains("version 1 (run \(TrackingStore.runId(trialId: full.id!)))"), "\(output.suffix(2000))")
    let accuracy = output.split(separator: "\n").last { $0.hasPrefix("accuracy on") }
      .flatMap { Double($0.split(separator: " ").last ?? "") }
    #expect((accuracy ?? 0) >= 0.9, "\(output.suffix(2000))")

    // And `mlflow models serve -m models:/NAME@champion` serves it, fetched from hpod's registry
    let (served, answer) = try await HPODProcess.runProgram(
      "\(venv)/python",
      [
        "\(Self.fixtures)/serve_champion.py", "sklearn-autolog-digits", "champion",
        String(try MLflowServer.freePort()),
      ],
      environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(served == 0, "\(answer.suffix(3000))")
    let predictions = answer.split(separator: "\n").first { $0.hasPrefix("predictions:") }
    #expect(predictions?.hasPrefix("predictions: [0, 1, 2, 3, 4]") == true, "\(answer.suffix(2000))")
  }

  /// The examples' venv (scikit-learn): make test names it; by hand, the one make examples-venv makes.
  static var examplesPython: String {
    ProcessInfo.processInfo.environment["HPOD_EXAMPLES_PYTHON"]
      ?? URL(fileURLWithPath: examples).deletingLastPathComponent().appendingPathComponent(".venv/examples/bin/python3")
      .path
  }

  @Test("sklearn-digits: folds as repeats, candidates weighed by Welch's test, the verdict recorded with its p-value")
  func sklearnDigits() async throws {
    let python = Self.examplesPython
    try #require(
      FileManager.default.isExecutableFile(atPath: python), "no scikit-learn venv at \(python): run make examples-venv")
    let venv = (python as NSString).deletingLastPathComponent
    let (database, trials, output) = try await run(
      "sklearn-digits",
      [
        ("max_trials: 16, parallelism: 2, startup_trials: 6", "max_trials: 4, parallelism: 2, startup_trials: 3"),
        ("candidates: 3", "candidates: 2"), ("repeats: 5", "repeats: 3"),
      ],
      environment: ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"])
    #expect(trials.allSatisfy { $0.state == .completed }, "\(trials.map(\.reason)) \(output)")
    let quick = trials.filter { $0.tier == .quickTest }
    // 4 configurations on one fold each, then the 2 best by that fold on 3 folds
    #expect(quick.count == 4 + 2 * 2)
    let repeated = Dictionary(grouping: quick) { $0.configurationId! }.filter { $0.value.count == 3 }
    #expect(repeated.count == 2)
    // The best of the two has its verdict, worded by the test, and it decided the promotion
    let verdicts = try repeated.keys.compactMap { try database.tags(trialId: $0)["hpod.promotion"] }
    let verdict = try #require(verdicts.first, "\(output)")
    #expect(verdict.contains("p = ") || verdict.contains("p < 0.001"), "\(verdict)")
    let full = trials.filter { $0.tier == .fullTraining }
    if verdict.hasPrefix("promoted") {
      #expect(full.count == 1 && full.first.map { repeated.keys.contains($0.sourceTrialId!) } == true)
      #expect(full.first.map { artifacts($0).contains("model.pkl") } == true)
    } else {
      #expect(verdict.hasSuffix("run more repeats") && full.isEmpty)
    }
    #expect(output.contains(verdict))
    // And hpod compare shows the two candidates' difference with its interval and p-values
    let numbers = repeated.keys.compactMap { id in quick.first { $0.id == id }?.number }.sorted()
    let (status, compared) = try await HPODProcess.runProgram(
      HPODProcess.binary, ["compare", "1"] + numbers.map(String.init),
      environment: ["HPOD_HOME": "\(folder)/home-sklearn-digits"])
    #expect(status == 0, "\(compared)")
    #expect(compared.contains("Differences over repeats") && compared.contains("p (Welch)"), "\(compared)")
    #expect(compared.contains("(n = 3)"))
  }

  @Test("recsys two-tower: recall metrics per epoch, best quick test promoted, its full training registered")
  func recsys() async throws {
    let (database, trials, _) = try await run(
      "recsys-two-tower",
      [
        (
          "search: {algorithm: bayes, seed: 11, max_trials: 16, parallelism: 2, startup_trials: 8}",
          "search: {algorithm: bayes, seed: 11, max_trials: 3, parallelism: 2, startup_trials: 3}"
        ),
        (
          "quick_test:    {epochs: 2, data_fraction: 0.1}", "quick_test:    {epochs: 1, data_fraction: 0.2, users: 300}"
        ),
        (
          "full_training: {epochs: 6, data_fraction: 1.0}", "full_training: {epochs: 2, data_fraction: 1.0, users: 300}"
        ),
      ])
    let quick = trials.filter { $0.tier == .quickTest }
    let full = trials.filter { $0.tier == .fullTraining }
    #expect(quick.count == 3 && full.count == 1)
    #expect(trials.allSatisfy { $0.state == .completed }, "\(trials.map { $0.reason ?? "" })")
    for trial in trials {
      let names = Set(try database.metrics(trialId: trial.id!).map(\.name))
      #expect(names.isSuperset(of: ["loss", "recall_at_10", "recall_at_50", "recall_at_100"]))
      #expect(Set(artifacts(trial)).isSuperset(of: ["model.npz", "model.json"]))
    }
    let best = quick.max { $0.value! < $1.value! }!
    #expect(full[0].sourceTrialId == best.id)
    let versions = try database.modelVersions(named: "recsys-two-tower")
    #expect(versions.map(\.trialId) == [full[0].id!])
    // the heatmap of recall@100 over width x crosses marks the best quick test's cell
    let (status, heatmap) = try await HPODProcess.run(
      [
        "heatmap", "--local", "recsys-two-tower", "--x", "user_embedding_dim", "--y", "cross_features", "--tier",
        "quick_test", "--home", "\(folder)/home-recsys-two-tower",
      ], home: "\(folder)/unused")
    #expect(status == 0, "\(heatmap)")
    #expect(heatmap.contains("recall_at_100 (maximize, tier quick_test) over user_embedding_dim × cross_features"))
    #expect(heatmap.contains(ProgressView.format(best.value!) + "★"))
    #expect(try database.modelAliases(named: "recsys-two-tower").map(\.alias) == ["champion"])
  }

  @Test("rag config: relevance, latency, tokens and cost; only the configuration meeting both thresholds is registered")
  func rag() async throws {
    let (database, trials, _) = try await run(
      "rag-config",
      [
        ("chunk_size:     {values: [64, 128, 256]}", "chunk_size:     {values: [256]}"),
        ("chunk_overlap:  {values: [0, 32]}", "chunk_overlap:  {values: [32]}"),
        ("retriever:      {values: [bm25, tfidf]}", "retriever:      {values: [bm25]}"),
        ("PRICE_PER_1K_TOKENS: \"0.002\"", "PRICE_PER_1K_TOKENS: \"0.01\"\n    RAG_QUESTIONS: \"12\""),
      ])
    #expect(trials.count == 4 && trials.allSatisfy { $0.state == .completed })
    for trial in trials {
      let metrics = try database.finalMetrics(trialId: trial.id!)
      #expect(Set(metrics.keys).isSuperset(of: ["answer_relevance", "latency_sec", "tokens_used", "cost_usd"]))
      #expect(abs(metrics["cost_usd"]! - metrics["tokens_used"]! / 1000 * 0.01) < 1e-6)
      #expect(Set(artifacts(trial)).isSuperset(of: ["prompt.txt", "response.txt", "rag_config.json"]))
      let prompt = try String(contentsOfFile: "\(trial.runDirectory!)/artifacts/prompt.txt", encoding: .utf8)
      #expect(prompt.contains("Question:"))
    }
    let versions = try database.modelVersions(named: "rag-config")
    #expect(versions.count == 1)
    let registered = try #require(trials.first { $0.id == versions.first?.trialId })
    #expect(
      registered.paramsJSON.contains("\"prompt_version\":\"v2\"") && registered.paramsJSON.contains("\"top_k\":2"))
    for trial in trials where trial.id != registered.id {
      #expect(try database.tags(trialId: trial.id!)["hpod.registration"]?.hasPrefix("not registered:") == true)
    }
  }
}
