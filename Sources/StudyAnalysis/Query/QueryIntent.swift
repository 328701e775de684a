public import StudyModel
public import TrackingBridge

/// What a plain-language question asks for, as `QueryParser` understood it. Names (metrics,
/// parameters) are the words of the question until `resolved(against:)` maps them onto the
/// study's own names; `nil` means "the study's objective" (or, for heatmap axes, "the most
/// important parameters").
public enum QueryIntent: Codable, Sendable, Hashable {
  /// The best (or worst, highest, lowest) `count` completed trials by a metric.
  case best(metric: String?, extreme: Extreme, count: Int, tier: Tier?)
  /// Two to four trials side by side (`hpod compare`).
  case compare(TrialSet)
  /// The history of a metric of one trial, step by step.
  case curve(trial: TrialRef, metric: String?)
  /// A metric over two parameters (`hpod heatmap`).
  case heatmap(metric: String?, x: String?, y: String?, tier: Tier?)
  /// Which parameters explain a metric (`hpod importance`).
  case importance(metric: String?, tier: Tier?)
  /// How many trials are in a state (and tier), with the list of them.
  case count(state: TrialState?, tier: Tier?)
  /// Trials listed (`hpod trials`): filtered by state and tier, the last or first few.
  case trials(state: TrialState?, tier: Tier?, selection: TrialSet?)
  /// One trial: its configuration, state, final metrics (and why it ended as it did).
  case trial(TrialRef)
  /// The end of a trial's log (`hpod logs`).
  case log(trial: TrialRef, stream: String)
  /// The models this study registered, and their aliases (`hpod models`).
  case model
  /// Counts by state, the best trial and the registered model (`hpod status`).
  case summary
  /// The example questions.
  case help

  /// Which end of a metric's range a "best"-style question wants.
  public enum Extreme: String, Codable, Sendable, Hashable {
    /// Best by the metric's direction (the study's for its objective).
    case best
    case worst
    case highest
    case lowest
  }

  /// A trial named in a question.
  public enum TrialRef: Codable, Sendable, Hashable, CustomStringConvertible {
    case number(Int)
    /// The best completed trial by the objective (full trainings first).
    case best
    /// The most recently created trial.
    case last

    public var description: String {
      switch self {
      case .number(let number): "trial \(number)"
      case .best: "the best trial"
      case .last: "the last trial"
      }
    }
  }

  /// A set of trials named in a question.
  public enum TrialSet: Codable, Sendable, Hashable, CustomStringConvertible {
    case numbers([Int])
    case last(Int)
    case first(Int)
    /// The best by the objective.
    case best(Int)
    case worst(Int)

    public var description: String {
      switch self {
      case .numbers(let numbers):
        "trials " + numbers.map(String.init).joined(separator: ", ")
      case .last(let count): count == 1 ? "the last trial" : "the last \(count) trials"
      case .first(let count): count == 1 ? "the first trial" : "the first \(count) trials"
      case .best(let count): count == 1 ? "the best trial" : "the best \(count) trials"
      case .worst(let count): count == 1 ? "the worst trial" : "the worst \(count) trials"
      }
    }
  }
}

extension QueryIntent: CustomStringConvertible {
  /// How the question was understood, in one line (printed before every answer).
  public var description: String {
    func metricName(_ metric: String?) -> String { metric ?? "the objective" }
    func tierText(_ tier: Tier?) -> String { tier.map { ", \($0.rawValue) only" } ?? "" }
    switch self {
    case .best(let metric, let extreme, let count, let tier):
      let what = count == 1 ? "trial" : "\(count) trials"
      switch extreme {
      case .best, .worst:
        return "\(extreme.rawValue) \(what) by \(metricName(metric))\(tierText(tier))"
      case .highest, .lowest:
        return "\(what) with the \(extreme.rawValue) \(metricName(metric))\(tierText(tier))"
      }
    case .compare(let set):
      return "compare \(set)"
    case .curve(let trial, let metric):
      return "\(metricName(metric)) curve of \(trial)"
    case .heatmap(let metric, let x, let y, let tier):
      let axes =
        x.map { x in y.map { "\(x) × \($0)" } ?? "\(x) × the most important parameter" }
        ?? "the two most important parameters"
      return "heatmap of \(metricName(metric)) over \(axes)\(tierText(tier))"
    case .importance(let metric, let tier):
      return "parameter importance for \(metricName(metric))\(tierText(tier))"
    case .count(let state, let tier):
      return "count of \(state.map { "\($0.rawValue) " } ?? "")trials\(tierText(tier))"
    case .trials(let state, let tier, let selection):
      let which = selection.map { "\($0)" } ?? "trials"
      return "list \(which)\(state.map { " that are \($0.rawValue)" } ?? "")\(tierText(tier))"
    case .trial(let ref):
      return "details of \(ref)"
    case .log(let trial, let stream):
      return "\(stream) log of \(trial)"
    case .model:
      return "models registered by the study"
    case .summary:
      return "summary of the study"
    case .help:
      return "example questions"
    }
  }
}
