public import Foundation
import NumberText
public import SearchStrategies
public import StudyModel
public import TrackingBridge

/// A metric over two parameters: numeric parameters binned, categorical ones as they are. Each
/// cell holds the best value of the completed trials that fall in it; the best cell and the
/// cell of the registered model are marked.
public struct Heatmap: Codable, Sendable, Hashable {
  public struct Axis: Codable, Sendable, Hashable {
    public var parameter: String
    public var labels: [String]
  }

  public struct Cell: Codable, Sendable, Hashable {
    public var x: Int
    public var y: Int
    public var value: Double
    public var count: Int
    /// The number of the trial that holds the cell's value.
    public var trial: Int
    public var registered: Bool
  }

  public var metric: String
  public var direction: String
  public var tier: String
  public var x: Axis
  public var y: Axis
  public var cells: [Cell]
  /// Index into `cells` of the best one.
  public var best: Int?

  public struct Failure: Error, Sendable, CustomStringConvertible {
    public var description: String
  }

  /// - Parameters:
  ///   - metrics: the last value of each metric per trial id (for metrics other than the objective).
  ///   - tier: nil for every tier.
  ///   - configurations: the trials' configurations by id, when the caller has them decoded.
  public static func compute(
    trials: [TrialRecord], metrics: [Int64: [String: Double]], x: String, y: String, metric: String,
    objective: String, direction: Direction, tier: Tier?, registered: Set<Int64>,
    configurations: [Int64: Configuration]? = nil
  ) throws(Failure) -> Heatmap {
    let candidates = trials.filter { $0.state == .completed && (tier == nil || $0.tier == tier) }
    let params = candidates.map {
      configurations?[$0.id!]
        ?? (try? JSONDecoder().decode(Configuration.self, from: Data($0.paramsJSON.utf8))) ?? Configuration()
    }
    let names = Set(params.flatMap(\.names)).sorted()
    for axis in [x, y] where !names.contains(axis) {
      throw Failure(
        description: names.isEmpty
          ? "no completed trial to draw yet"
          : "no completed trial has parameter '\(axis)'; parameters: \(names.joined(separator: ", "))")
    }
    let xBins = Binning(values: params.compactMap { $0[x] })
    let yBins = Binning(values: params.compactMap { $0[y] })
    var best: [Int: (value: Double, count: Int, trial: TrialRecord)] = [:]
    for (trial, configuration) in zip(candidates, params) {
      guard let xv = configuration[x], let yv = configuration[y],
        let value = metric == objective ? trial.value : metrics[trial.id!]?[metric], value.isFinite
      else { continue }
      let key = yBins.index(of: yv) * xBins.labels.count + xBins.index(of: xv)
      if let current = best[key] {
        let better = direction.isBetter(value, than: current.value)
        best[key] = (better ? value : current.value, current.count + 1, better ? trial : current.trial)
      } else {
        best[key] = (value, 1, trial)
      }
    }
    let cells = best.sorted { $0.key < $1.key }.map { key, entry in
      Cell(
        x: key % xBins.labels.count, y: key / xBins.labels.count, value: entry.value, count: entry.count,
        trial: entry.trial.number, registered: registered.contains(entry.trial.id!))
    }
    guard !cells.isEmpty else { throw Failure(description: "no completed trial reported '\(metric)'") }
    let bestIndex = cells.indices.min { a, b in direction.isBetter(cells[a].value, than: cells[b].value) }
    return Heatmap(
      metric: metric, direction: direction.rawValue, tier: tier?.rawValue ?? "all",
      x: Axis(parameter: x, labels: xBins.labels), y: Axis(parameter: y, labels: yBins.labels), cells: cells,
      best: bestIndex)
  }
}

/// How one parameter's values map to columns: categories and few distinct numbers as they
/// are, many numbers in 6 equal-width bins (in log space when they span orders of magnitude).
struct Binning {
  enum Kind {
    case distinct([ParameterValue])
    case ranges(edges: [Double], log: Bool)
  }

  let kind: Kind
  let labels: [String]

  init(values: [ParameterValue]) {
    let numbers = values.compactMap(\.numericValue)
    let distinct = Array(Set(values))
    if numbers.count < values.count || Set(numbers).count <= 8 {
      let sorted = distinct.sorted { a, b in
        switch (a.numericValue, b.numericValue) {
        case (let x?, let y?): x < y
        default: a.description < b.description
        }
      }
      kind = .distinct(sorted)
      labels = sorted.map { Self.format($0) }
      return
    }
    let low = numbers.min()!
    let high = numbers.max()!
    let log = low > 0 && high / low >= 20
    let transform: (Double) -> Double = { log ? Foundation.log10($0) : $0 }
    let a = transform(low)
    let b = transform(high)
    let edges = (0...6).map { a + (b - a) * Double($0) / 6 }
    kind = .ranges(edges: edges, log: log)
    let display = edges.map { log ? pow(10, $0) : $0 }
    labels = (0..<6).map { "\(Self.format(display[$0]))–\(Self.format(display[$0 + 1]))" }
  }

  func index(of value: ParameterValue) -> Int {
    switch kind {
    case .distinct(let values):
      return values.firstIndex(of: value) ?? 0
    case .ranges(let edges, let log):
      guard let number = value.numericValue else { return 0 }
      let x = log ? Foundation.log10(number) : number
      let bin = edges.dropFirst().firstIndex { x <= $0 + 1e-12 }.map { $0 - 1 } ?? edges.count - 2
      return min(max(bin, 0), edges.count - 2)
    }
  }

  static func format(_ value: ParameterValue) -> String {
    if case .double(let number) = value { return format(number) }
    return value.description
  }

  /// Fewer digits than elsewhere: a cell is a few characters wide.
  static func format(_ value: Double) -> String {
    NumberText.of(value, digits: value != 0 && (abs(value) < 1e-2 || abs(value) >= 1e5) ? 2 : 3)
  }
}

extension Heatmap {
  /// The heatmap of a stored study. `metric` defaults to the objective; `tier` "all" or nil
  /// takes every tier.
  public static func load(
    database: AppDatabase, study: StudyRecord, x: String, y: String, metric: String?, tier: String?
  ) throws -> Heatmap {
    let chosenTier: Tier?
    switch tier {
    case nil, "all": chosenTier = nil
    case let name?:
      guard let parsed = Tier(rawValue: name) else {
        throw Failure(description: "tier must be quick_test, full_training or all, found \"\(name)\"")
      }
      chosenTier = parsed
    }
    let metric = metric ?? study.objectiveMetric
    let trials = try database.trials(studyId: study.id!)
    let metrics = metric == study.objectiveMetric ? [:] : try database.lastMetricValues(studyId: study.id!)
    let registered = Set(try database.modelVersions().filter { $0.studyId == study.id }.map(\.trialId))
    return try compute(
      trials: trials, metrics: metrics, x: x, y: y, metric: metric, objective: study.objectiveMetric,
      direction: study.direction, tier: chosenTier, registered: registered)
  }
}
