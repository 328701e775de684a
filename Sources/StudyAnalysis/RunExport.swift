public import Foundation
public import SearchStrategies
public import StudyModel
public import TrackingBridge

/// Every run of a study as a flat table: one row per trial with its parameters and the last
/// value of each metric, for CSV or JSON export.
public enum RunExport {
  public struct Row: Codable, Sendable, Hashable {
    public var number: Int
    public var tier: String
    public var state: String
    public var value: Double?
    public var durationSeconds: Double?
    public var sourceTrial: Int?
    /// The number of the configuration's first trial, and which repeat of it this one is.
    public var configuration: Int
    public var repeatIndex: Int
    public var seed: Int64?
    /// The configuration's value over its repeats (its mean, standard deviation and count).
    public var valueMean: Double?
    public var valueStd: Double?
    public var valueCount: Int?
    public var params: [String: ParameterValue]
    public var metrics: [String: Double]

    enum CodingKeys: String, CodingKey {
      case number, tier, state, value, params, metrics, configuration, seed
      case durationSeconds = "duration_seconds"
      case sourceTrial = "source_trial"
      case repeatIndex = "repeat"
      case valueMean = "value_mean"
      case valueStd = "value_std"
      case valueCount = "value_count"
    }
  }

  public static func rows(database: AppDatabase, studyId: Int64) throws -> [Row] {
    let trials = try database.trials(studyId: studyId)
    let metrics = try database.lastMetricValues(studyId: studyId)
    let numbers = Dictionary(uniqueKeysWithValues: trials.map { ($0.id!, $0.number) })
    let summaries = RepeatGroups.summaries(trials)
    return trials.map { trial in
      let configuration = trial.configurationId ?? trial.id!
      let summary = summaries[configuration]
      return Row(
        number: trial.number, tier: trial.tier.rawValue, state: trial.state.rawValue, value: trial.value,
        durationSeconds: trial.duration, sourceTrial: trial.sourceTrialId.flatMap { numbers[$0] },
        configuration: numbers[configuration] ?? trial.number, repeatIndex: trial.repeatIndex, seed: trial.seed,
        valueMean: summary?.mean, valueStd: summary?.standardDeviation, valueCount: summary?.count,
        params: (try? JSONDecoder().decode([String: ParameterValue].self, from: Data(trial.paramsJSON.utf8))) ?? [:],
        metrics: metrics[trial.id!] ?? [:])
    }
  }

  public static func csv(_ rows: [Row]) -> String {
    let params = Set(rows.flatMap(\.params.keys)).sorted()
    let metrics = Set(rows.flatMap(\.metrics.keys)).sorted()
    var lines = [
      ([
        "number", "tier", "state", "value", "duration_seconds", "source_trial", "configuration", "repeat", "seed",
        "value_mean", "value_std", "value_count",
      ] + params.map { "param.\($0)" }
        + metrics.map { "metric.\($0)" }).map(escape).joined(separator: ",")
    ]
    for row in rows {
      let number = { (value: Double?) -> String in value.map { "\($0)" } ?? "" }
      var cells: [String] = [String(row.number), row.tier, row.state, number(row.value)]
      cells.append(row.durationSeconds.map { String(format: "%.3f", $0) } ?? "")
      cells.append(row.sourceTrial.map(String.init) ?? "")
      cells += [String(row.configuration), String(row.repeatIndex), row.seed.map(String.init) ?? ""]
      cells += [number(row.valueMean), number(row.valueStd), row.valueCount.map(String.init) ?? ""]
      cells += params.map { row.params[$0]?.description ?? "" }
      cells += metrics.map { number(row.metrics[$0]) }
      lines.append(cells.map(escape).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func escape(_ cell: String) -> String {
    guard cell.contains(where: { ",\"\n\r".contains($0) }) else { return cell }
    return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
