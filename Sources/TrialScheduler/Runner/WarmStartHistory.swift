import DidYouMean
import Foundation
public import SearchStrategies
public import TrackingBridge

/// What a study's `search.warm_start` brings: the completed search trials of the study it
/// names, as observations over this study's space, which the strategy sees before any of this
/// study's own. They are the source study's trials, not this one's: they use none of its budget
/// and are not shown among its runs.
///
/// The set is fixed when the study is created (the source's trials finished by then), so a
/// resumed study sees the same history and continues the strategy's sequence.
public struct WarmStartHistory: Sendable {
  public var source: StudyRecord
  /// One per completed configuration of the source inside this study's space, in the
  /// source's order.
  public var observations: [Observation]
  /// The source's completed configurations left out: outside this study's space (a narrowed
  /// range, a dropped category).
  public var outsideSpace: Int

  /// Loads the history `warmStart` names for `spec`, checking that the source exists, has the
  /// same objective and the same parameters. `study` is this study's row once it exists: the
  /// source is then the latest study of the name created before it, with the trials that had
  /// finished when it was created; nil checks a spec about to be submitted.
  ///
  /// Throws `SpecValidationError` located at `search.warm_start.study`.
  public static func load(
    _ warmStart: StudySpec.WarmStart, for spec: StudySpec, study: StudyRecord?, database: AppDatabase
  ) throws -> WarmStartHistory {
    func problem(_ message: String) -> SpecValidationError {
      var issue = warmStart.site
      issue.message = message
      return SpecValidationError(issues: [issue])
    }
    guard let source = try database.latestStudy(named: warmStart.study, before: study?.id) else {
      let names = Array(Set(try database.studies().map(\.name))).sorted()
      var message = "no study named '\(warmStart.study)' in this store"
      if let nearest = DidYouMean.nearest(to: warmStart.study, in: names) {
        message += "; did you mean '\(nearest)'?"
      } else if !names.isEmpty {
        message += " (studies: \(names.prefix(10).joined(separator: ", "))\(names.count > 10 ? ", …" : ""))"
      }
      throw problem(message)
    }
    let described = "study '\(source.name)' (id \(source.id!))"
    guard source.objectiveMetric == spec.objective.metric, source.direction == spec.objective.direction
    else {
      throw problem(
        "\(described) \(source.direction.rawValue)s \(source.objectiveMetric), this study \(spec.objective.direction.rawValue)s \(spec.objective.metric): a warm start needs the same objective"
      )
    }
    let sourceSpec: StudySpec
    do { sourceSpec = try StudyService.spec(of: source) } catch {
      throw problem("the spec of \(described) cannot be read any more: \(error)")
    }
    if let mismatch = Self.mismatch(of: sourceSpec.space, with: spec.space) {
      throw problem("\(described) searched other parameters: \(mismatch); a warm start needs the same parameters")
    }
    var trials = try database.trials(studyId: source.id!, tier: sourceSpec.searchTier)
    if let created = study?.createdAt {
      trials.removeAll { ($0.finishedAt ?? .distantFuture) > created }
    }
    let finalMetrics = spec.needsFinalMetrics ? try database.finalMetricValues(studyId: source.id!) : [:]
    let context = TrialHistory(trials: trials).searchContext(
      space: spec.space, direction: spec.objective.direction, retries: sourceSpec.trial.retries,
      outcome: spec.needsFinalMetrics ? { spec.outcome(of: $0, finalMetrics: finalMetrics) } : nil)
    var history = WarmStartHistory(source: source, observations: [], outsideSpace: 0)
    for var observation in context.observations where observation.state == .completed {
      observation.configuration = spec.space.canonical(observation.configuration)
      if spec.space.isValid(observation.configuration) {
        history.observations.append(observation)
      } else {
        history.outsideSpace += 1
      }
    }
    if history.observations.isEmpty {
      throw problem(
        history.outsideSpace == 0
          ? "\(described) has no completed trials yet; warm-start from a study that has some"
          : "none of the \(history.outsideSpace) completed trials of \(described) lies inside this study's space")
    }
    return history
  }

  /// How two spaces differ in their parameters' names or kinds, or nil when they match (ranges
  /// may differ: trials outside this space are left out).
  static func mismatch(of source: SearchSpace, with space: SearchSpace) -> String? {
    let theirs = Set(source.parameters.map(\.name))
    let ours = Set(space.parameters.map(\.name))
    var differences: [String] = []
    let onlyOurs = ours.subtracting(theirs).sorted()
    let onlyTheirs = theirs.subtracting(ours).sorted()
    if !onlyOurs.isEmpty { differences.append("only this study has \(onlyOurs.joined(separator: ", "))") }
    if !onlyTheirs.isEmpty { differences.append("only the source has \(onlyTheirs.joined(separator: ", "))") }
    for parameter in space.parameters {
      guard let other = source.parameter(named: parameter.name) else { continue }
      if parameter.isCategorical != other.isCategorical {
        differences.append(
          "'\(parameter.name)' is \(parameter.isCategorical ? "categorical" : "numeric") here and \(other.isCategorical ? "categorical" : "numeric") there"
        )
      }
    }
    return differences.isEmpty ? nil : differences.joined(separator: "; ")
  }
}

extension Parameter {
  var isCategorical: Bool {
    if case .categorical = domain { return true }
    return false
  }
}
