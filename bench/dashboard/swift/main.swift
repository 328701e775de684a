// Fills an hpod store with one finished study of N trials, written through AppDatabase as the
// runner writes them: quick tests (most completed, some pruned or failed) with ~20-step
// histories of two metrics and a final line, the best ones trained in full, some registered.
// It also writes the same runs as JSON lines for the MLflow peer to import.
//
//     bench-dashboard HOME TRIALS RUNS.jsonl
import Foundation
import SearchStrategies
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[2]) else {
  FileHandle.standardError.write(Data("usage: bench-dashboard HOME TRIALS RUNS.jsonl\n".utf8))
  exit(2)
}
let home = HpodHome(path: arguments[1])
let database = try AppDatabase.open(at: home.databasePath)
let yaml = """
  name: dashboard-bench
  objective: {metric: val_accuracy, direction: maximize}
  search: {algorithm: random, seed: 1, max_trials: \(count), parallelism: 8}
  parameters:
    lr:        {type: float, min: 1.0e-4, max: 0.3, log: true}
    hidden:    {type: int, min: 8, max: 256, log: true}
    dropout:   {type: float, min: 0.0, max: 0.5, step: 0.05}
    optimizer: {type: categorical, values: [sgd, adam]}
    momentum:  {type: float, min: 0.0, max: 0.99, when: {optimizer: sgd}}
  trial: {command: [python3, train.py, "--lr={lr}"]}
  tiers:
    quick_test: {epochs: 20}
    full_training: {epochs: 20}
  promotion: {top_k: 50}
  registration: {model: bench-model, when: ["val_accuracy >= 0.5"], alias: champion}
  """
let spec = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: FileManager.default.currentDirectoryPath)
let study = try database.createStudy(
  StudyRecord(
    name: spec.name, specYAML: yaml, specPath: nil, specHash: "bench", objectiveMetric: "val_accuracy",
    direction: .maximize))
let studyId = study.id!
var generator = SplitMix(seed: 42)
let strategy = RandomSearch(seed: 7)
let context = SearchContext(space: spec.space, direction: .maximize)
let fullCount = max(1, count / 50)
let quickCount = count - fullCount
let configurations = try strategy.suggest(quickCount, in: context)
_ = FileManager.default.createFile(atPath: arguments[3], contents: nil)
let lines = FileHandle(forWritingAtPath: arguments[3])!
let start = Date().addingTimeInterval(-Double(count) * 30)
var quick: [(TrialRecord, Configuration, Double)] = []

/// A learning curve that rises towards a ceiling set by the configuration.
func ceiling(_ configuration: Configuration) -> Double {
  let lr = configuration["lr"]?.numericValue ?? 0.01
  let hidden = configuration["hidden"]?.numericValue ?? 32
  let dropout = configuration["dropout"]?.numericValue ?? 0.1
  let adam = configuration["optimizer"]?.description == "adam"
  let lrScore = exp(-pow(log10(lr) + 2, 2) / 1.5)
  return 0.35 + 0.55 * lrScore * (0.7 + 0.3 * min(1, log2(hidden) / 8)) * (1 - dropout * 0.4) * (adam ? 1 : 0.9)
}

@MainActor func record(_ configuration: Configuration, tier: Tier, source: Int64?, at index: Int) throws -> (
  TrialRecord, Double
) {
  let params = configuration.map { (name: $0.key, value: $0.value.description, numeric: $0.value.numericValue) }
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  let json = String(decoding: try encoder.encode(configuration), as: UTF8.self)
  let trial = try database.createTrial(
    studyId: studyId, tier: tier, params: params, paramsJSON: json, sourceTrialId: source)
  let began = start.addingTimeInterval(Double(index) * 30)
  _ = try database.startTrial(trial, handle: #"{"external":{}}"#, runDirectory: "", at: began)
  let top = ceiling(configuration) + (tier == .fullTraining ? 0.04 : 0)
  let roll = Double(generator.next() % 1000) / 1000
  let state: TrialState =
    tier == .fullTraining ? .completed : roll < 0.25 ? .pruned : roll < 0.28 ? .failed : .completed
  let steps = state == .pruned ? 5 + Int(generator.next() % 5) : state == .failed ? 3 : 20
  var points: [MetricPoint] = []
  var accuracy = 0.0
  var history: [[String: Double]] = []
  for step in 1...steps {
    let stamp = Int64(began.timeIntervalSince1970 * 1000) + Int64(step * 1000)
    accuracy = top * (1 - exp(-Double(step) / 5)) + Double(generator.next() % 100) / 10_000
    let loss = 1.2 * exp(-Double(step) / 6) + (1 - top) * 0.5
    points.append(MetricPoint(trialId: trial.id!, name: "val_accuracy", step: step, value: accuracy, timestamp: stamp))
    points.append(MetricPoint(trialId: trial.id!, name: "loss", step: step, value: loss, timestamp: stamp))
    history.append(["step": Double(step), "val_accuracy": accuracy, "loss": loss, "timestamp": Double(stamp)])
  }
  let latency = 0.5 + (configuration["hidden"]?.numericValue ?? 32) / 100
  if state == .completed {
    points.append(
      MetricPoint(
        trialId: trial.id!, name: "latency_ms", step: steps + 1, value: latency,
        timestamp: Int64(began.timeIntervalSince1970 * 1000) + 30_000))
  }
  try database.appendMetrics(points)
  let finished = try database.finishTrial(
    id: trial.id!,
    .init(
      state: state, value: state == .failed ? nil : accuracy, exitCode: state == .failed ? 1 : 0,
      reason: state == .pruned ? "stopped early by the median rule at step \(steps)" : nil),
    at: began.addingTimeInterval(Double(steps)))!
  let run: [String: Any] = [
    "number": trial.number, "tier": tier.rawValue, "state": state.rawValue,
    "params": Dictionary(uniqueKeysWithValues: configuration.map { ($0.key, $0.value.description) }),
    "history": history, "start": Int64(began.timeIntervalSince1970 * 1000), "steps": steps,
    "latency_ms": state == .completed ? latency : -1,
  ]
  lines.write(try JSONSerialization.data(withJSONObject: run))
  lines.write(Data("\n".utf8))
  return (finished, accuracy)
}

for (index, configuration) in configurations.enumerated() {
  let (trial, value) = try record(configuration, tier: .quickTest, source: nil, at: index)
  if trial.state == .completed { quick.append((trial, configuration, value)) }
}
let promoted = quick.sorted { $0.2 > $1.2 }.prefix(fullCount)
for (offset, entry) in promoted.enumerated() {
  let (full, _) = try record(entry.1, tier: .fullTraining, source: entry.0.id, at: quickCount + offset)
  if offset < 10 {
    _ = try database.registerModel(
      ModelVersion(
        modelName: "bench-model", trialId: full.id!, studyId: studyId, value: full.value, metricsJSON: "{}",
        paramsJSON: full.paramsJSON, conditions: "val_accuracy >= 0.5", artifactPath: nil),
      alias: "champion", higherIsBetter: true)
  }
}
try database.setStudyState(id: studyId, .completed)
print(
  "study \(studyId): \(quickCount) quick tests, \(promoted.count) full trainings, \(try database.metricCount(studyId: studyId)) metric points"
)

/// A seeded generator, so every run of the bench writes the same store.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
