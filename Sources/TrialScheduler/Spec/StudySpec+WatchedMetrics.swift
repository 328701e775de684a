import DidYouMean

// Metrics the spec acts on besides the objective: one no trial reports makes that part of the
// spec do nothing, silently, unless it is called out.
extension StudySpec {
  /// Each metric the spec's rules read, with the key that names it: `early_stopping.metric`,
  /// `registration.when`, `constraints`.
  public var watchedMetrics: [(key: String, metric: String)] {
    var watched: [(String, String)] = []
    if let earlyStopping { watched.append(("early_stopping.metric", earlyStopping.metric)) }
    for condition in registration?.conditions ?? [] { watched.append(("registration.when", condition.metric)) }
    for constraint in constraints { watched.append(("constraints", constraint.metric)) }
    var seen: Set<String> = []
    return watched.filter { seen.insert("\($0.0) \($0.1)").inserted }
  }

  /// What to tell the user about the watched metrics no trial reported, given every metric
  /// name the study's trials reported: which key names it, what the trials reported instead
  /// (with a did-you-mean), and what that part of the spec did not do.
  public func unreportedMetrics(reported: Set<String>) -> [String] {
    let names = reported.sorted()
    return watchedMetrics.filter { !reported.contains($0.metric) }.map { key, metric in
      let effect =
        switch key {
        case "early_stopping.metric": "the early-stopping rule judged no trial"
        case "registration.when": "no run can meet this threshold, so none is registered"
        default: "every trial breaks this constraint"
        }
      let instead = names.isEmpty ? "" : "; the trials reported \(names.prefix(8).joined(separator: ", "))"
      let near = DidYouMean.nearest(to: metric, in: names).map { " (did you mean '\($0)'?)" } ?? ""
      return "\(key) names '\(metric)', which no trial reported\(near)\(instead): \(effect)"
    }
  }
}
