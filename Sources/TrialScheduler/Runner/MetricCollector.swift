import DidYouMean
import Foundation
import TrackingBridge

/// Turns reported lines into metric points, tracking steps, the objective and the problems.
struct MetricCollector {
  let trialId: Int64
  let objective: String
  private(set) var lastStep = -1
  private(set) var malformedLines = 0
  private(set) var objectiveValue: Double?
  private var finalObjective: Double?
  /// Set when the objective was reported as NaN (or null): the trial fails, and the search
  /// sees a failed evaluation. ±Infinity is a value: the trial completes with it.
  private(set) var objectiveProblem: String?

  static func notANumber(_ objective: String, step: Int) -> String {
    "reported \(objective) as NaN at step \(step) (the training diverged?); the search counts it as a failed evaluation"
  }
  /// Points the store refused for a reason that waiting does not mend, and the last error.
  private(set) var lostPoints = 0
  private(set) var lostPointsError: String?

  /// The metric names the trial reported, for a reason that says what it did report.
  private(set) var reportedNames: Set<String> = []
  /// Checkpoints reported since the last `takeCheckpoints`.
  private var checkpoints: [(name: String, step: Int)] = []
  /// A resumed attempt's history holds the steps up to its checkpoint's already: the same
  /// steps reported again are dropped, so none is stored twice.
  private var floor = -1

  /// Takes in points the trial logged through the API (stored already).
  mutating func take(_ points: [MetricPoint]) {
    for point in points.sorted(by: { $0.step < $1.step }) {
      if reportedNames.count < 100 { reportedNames.insert(point.name) }
      lastStep = max(lastStep, point.step)
      if point.name == objective, finalObjective == nil {
        if point.value.isNaN {
          objectiveValue = nil
          objectiveProblem = Self.notANumber(objective, step: point.step)
        } else {
          objectiveValue = point.value
          objectiveProblem = nil
        }
      }
    }
  }

  /// Continues after the points an adopted trial reported before this hpod followed it.
  mutating func resume(after points: [MetricPoint]) {
    lastStep = points.map(\.step).max() ?? -1
    objectiveValue = points.last(where: { $0.name == objective })?.value
  }

  /// The step a resumed attempt's history holds already (-1 for a first attempt).
  var resumedAfter: Int { floor }

  /// Continues after the step of the checkpoint this attempt resumes from.
  mutating func continueAfter(step: Int) {
    lastStep = max(lastStep, step)
    floor = step
  }

  /// The checkpoints reported since the last call.
  mutating func takeCheckpoints() -> [(name: String, step: Int)] {
    defer { checkpoints = [] }
    return checkpoints
  }

  mutating func unsaved(_ count: Int, _ error: any Error) {
    lostPoints += count
    lostPointsError = "\(error)"
  }

  init(trialId: Int64, objective: String) {
    self.trialId = trialId
    self.objective = objective
  }

  mutating func ingest(_ lines: [String]) -> [MetricPoint] {
    var points: [MetricPoint] = []
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    for line in lines {
      guard let report = MetricReport.parse(line) else {
        malformedLines += 1
        continue
      }
      if let name = report.checkpoint {
        guard CheckpointFolder.isValidName(name) else {
          malformedLines += 1
          continue
        }
        // A checkpoint holds the state at the last step reported, unless it names its own.
        if report.values.isEmpty && report.nonFinite.isEmpty {
          let step = report.step ?? max(lastStep, 0)
          lastStep = max(lastStep, step)
          if step > floor { checkpoints.append((name, step)) }
          continue
        }
      }
      let step = report.step ?? (report.isFinal ? max(lastStep, 0) : lastStep + 1)
      lastStep = max(lastStep, step)
      // Steps the resumed attempt's history holds already (up to its checkpoint).
      guard step > floor else { continue }
      if let name = report.checkpoint { checkpoints.append((name, step)) }
      for (name, value) in report.values.sorted(by: { $0.key < $1.key }) {
        points.append(MetricPoint(trialId: trialId, name: name, step: step, value: value, timestamp: now))
        if reportedNames.count < 100 { reportedNames.insert(name) }
      }
      if let value = report.values[objective], !value.isNaN {
        if report.isFinal { finalObjective = value }
        objectiveValue = finalObjective ?? value
        objectiveProblem = nil
      } else if report.nonFinite.contains(objective) {
        objectiveProblem = Self.notANumber(objective, step: step)
      }
    }
    if objectiveProblem != nil, finalObjective == nil { objectiveValue = nil }
    return points
  }

  func latestOfBatch(_ points: [MetricPoint]) -> [String: Double] {
    Dictionary(points.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
  }

  /// What the trial reported, for its verdict.
  var reports: TrialVerdict.Reports {
    TrialVerdict.Reports(
      objectiveValue: objectiveValue, objectiveProblem: objectiveProblem, reportedNames: reportedNames,
      malformedLines: malformedLines, lostPoints: lostPoints, lostPointsError: lostPointsError)
  }
}
