// Metric ingestion into hpod's embedded store, the way the scheduler writes it: one
// transaction per write of `--per-write` points (one reported line of a trial carries a few
// metrics; `--per-write 1000` is the shape of an MLflow log-batch call).
//
// Usage: bench-tracking --points N --per-write K --store PATH
// Prints one JSON object: {"points", "per_write", "seconds", "points_per_second"}.
import Foundation
import TrackingBridge

func option(_ name: String, _ fallback: String) -> String {
  let arguments = CommandLine.arguments
  guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
  return arguments[index + 1]
}

let points = Int(option("--points", "200000"))!
let perWrite = Int(option("--per-write", "5"))!
let store = option("--store", NSTemporaryDirectory() + "bench-tracking-\(UUID().uuidString)/hpod.sqlite")
try? FileManager.default.removeItem(atPath: store)

let database = try AppDatabase.open(at: store)
let study = try database.createStudy(
  StudyRecord(
    name: "bench-tracking", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "m0",
    direction: .maximize))
// 50 trials reporting in turn, as parallel trials do.
let trials = try (0..<50).map { _ in
  try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}").id!
}
let names = (0..<max(perWrite, 1)).map { "metric_\($0 % 8)" }

let started = ContinuousClock.now
var sent = 0
var write = 0
while sent < points {
  let count = min(perWrite, points - sent)
  let trial = trials[write % trials.count]
  let step = write / trials.count
  let now = Int64(Date().timeIntervalSince1970 * 1000)
  let batch = (0..<count).map { index in
    MetricPoint(
      trialId: trial, name: names[index], step: perWrite >= 8 ? step * (perWrite / 8) + index / 8 : step,
      value: Double(sent + index) * 0.001, timestamp: now)
  }
  try database.appendMetrics(batch)
  sent += count
  write += 1
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let stored = try database.metricCount(studyId: study.id!)
precondition(stored == points, "stored \(stored) of \(points) points")
print(
  "{\"points\": \(points), \"per_write\": \(perWrite), \"seconds\": \(seconds), \"points_per_second\": \(Double(points) / seconds)}"
)
try? FileManager.default.removeItem(atPath: (store as NSString).deletingLastPathComponent)
