/// A run's final metrics (each metric's last value) as the study judges them.
public enum FinalMetrics {
  /// Each metric's mean over the runs that reported it: a configuration's repeats are judged
  /// by these (registration, constraints, the Pareto front).
  public static func mean(_ runs: [[String: Double]]) -> [String: Double] {
    var sums: [String: (Double, Int)] = [:]
    for run in runs {
      for (name, value) in run {
        let (sum, count) = sums[name] ?? (0, 0)
        sums[name] = (sum + value, count + 1)
      }
    }
    return sums.mapValues { $0.0 / Double($0.1) }
  }
}
