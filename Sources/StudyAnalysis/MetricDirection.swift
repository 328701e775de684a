public import SearchStrategies
public import StudyModel

/// Which way a metric that is not the study's objective is better, guessed from its name: one
/// list for every view (the dashboard's compare page and heatmap, `hpod compare`, `hpod
/// query`), so they never disagree about whether less is better.
public enum MetricDirection {
  /// Name parts of metrics that are better lower: losses, errors, durations, latencies,
  /// costs, memory, regret.
  static let lowerIsBetter = [
    "loss", "error", "err", "mse", "mae", "rmse", "latency", "time", "cost", "perplexity", "ppl", "duration",
    "memory", "wer", "cer", "seconds", "_ms", "regret", "tokens",
  ]

  /// `.minimize` for a name that holds one of `lowerIsBetter` (case aside), else `.maximize`.
  public static func guess(_ metric: String) -> Direction {
    let name = metric.lowercased()
    return lowerIsBetter.contains { name.contains($0) } ? .minimize : .maximize
  }
}
