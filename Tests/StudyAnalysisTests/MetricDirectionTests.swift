import SearchStrategies
import StudyAnalysis
import StudyModel
import Testing

@Suite("Which way a metric is better")
struct MetricDirectionTests {
  @Test(
    "durations, seconds, latencies, losses and errors are better lower; accuracies and recalls higher",
    arguments: [
      ("duration_seconds", Direction.minimize), ("train_seconds", .minimize), ("latency_ms", .minimize),
      ("val_loss", .minimize), ("Error_Rate", .minimize), ("peak_memory_mb", .minimize), ("cost_usd", .minimize),
      ("val_accuracy", .maximize), ("recall@100", .maximize), ("f1", .maximize),
    ])
  func guessesFromTheName(metric: String, expected: Direction) {
    #expect(MetricDirection.guess(metric) == expected)
  }
}
