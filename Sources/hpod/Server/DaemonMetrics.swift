import Foundation
import Metrics
import Prometheus
import StudyModel
import Synchronization
import TrackingBridge
import TrialScheduler

/// The daemon's /metrics in Prometheus' text format, through swift-prometheus registries:
/// - HTTP requests, recorded by Hummingbird's `MetricsMiddleware` through swift-metrics into
///   the process's registry (swift-metrics takes one backend per process, so the executable
///   bootstraps it once, here; the library modules record nothing globally);
/// - the time of each suggestion, observed from the service's `SuggestionLatency`;
/// - the store's state (trials and studies by state, paused studies, trial slots, finished
///   trials' durations, the MLflow backlog), set from the store at every scrape.
final class DaemonMetrics: Sendable {
  /// The registry behind swift-metrics for this process (HTTP requests).
  static let process: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
  }()

  static let durationBuckets: [Double] = [1, 5, 15, 60, 300, 900, 3600, 14400]
  static let suggestionBuckets: [Duration] = [
    .milliseconds(1), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
    .seconds(5),
  ]

  /// A metric of this name (already prefixed `hpod_`) with its `# HELP` text.
  static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
  }

  private let registry = PrometheusCollectorRegistry()
  private let service: StudyService
  /// Scrapes one at a time: each rebuilds the durations histogram and zeroes what ended.
  private let scrape = Mutex<Scrape>(Scrape())

  private struct Scrape {
    var durations: ValueHistogram?
    var paused: Set<Int64> = []
  }

  init(service: StudyService) {
    _ = Self.process
    self.service = service
    let suggestions = registry.makeDurationHistogram(
      descriptor: Self.named("hpod_suggestion_seconds", "Time the search strategy took per suggestion."),
      buckets: Self.suggestionBuckets)
    service.suggestionLatency.observe { suggestions.record($0) }
  }

  /// The metrics text: the daemon's registry, then the process's HTTP request metrics.
  func render() async throws -> String {
    let database = service.database
    let trialCounts = try database.trialStateCounts()
    let studyCounts = try database.studyStateCounts()
    let durations = try database.finishedTrialDurations()
    let mirrored = try database.mirrorStatus()
    let paused = service.pausedStudies
    let inUse = await service.slots.inUse
    scrape.withLock { state in
      for trialState in TrialState.allCases {
        for tier in Tier.allCases {
          let count = trialCounts.first { $0.state == trialState.rawValue && $0.tier == tier.rawValue }?.count ?? 0
          registry.makeGauge(
            descriptor: Self.named("hpod_trials", "Trials in the store by state and tier."),
            labels: [("state", trialState.rawValue), ("tier", tier.rawValue)]
          ).set(Double(count))
        }
      }
      for studyState in StudyState.allCases {
        registry.makeGauge(
          descriptor: Self.named("hpod_studies", "Studies in the store by state."),
          labels: [("state", studyState.rawValue)]
        ).set(Double(studyCounts[studyState.rawValue] ?? 0))
      }
      for id in state.paused.union(paused.keys) {
        registry.makeGauge(
          descriptor: Self.named("hpod_study_paused", "1 while a study waits for a store that cannot be written."),
          labels: [("study_id", String(id))]
        ).set(paused[id] == nil ? 0.0 : 1.0)
      }
      state.paused.formUnion(paused.keys)
      registry.makeGauge(
        descriptor: Self.named(
          "hpod_trial_slots_in_use",
          "Trial processes running now (the --max-concurrent-trials limit is hpod_trial_slots).")
      ).set(Double(inUse))
      registry.makeGauge(descriptor: Self.named("hpod_trial_slots", "The daemon's limit on trial processes.")).set(
        Double(service.slots.limit))
      // The store's finished trials, as a histogram rebuilt from them at each scrape.
      if let old = state.durations { registry.unregisterValueHistogram(old) }
      let histogram = registry.makeValueHistogram(
        descriptor: Self.named("hpod_trial_duration_seconds", "Wall-clock duration of finished trials."),
        buckets: Self.durationBuckets)
      for duration in durations { histogram.record(duration) }
      state.durations = histogram
      for study in mirrored {
        let labels = [("study", String(study.studyId))]
        registry.makeGauge(
          descriptor: Self.named(
            "hpod_mlflow_backlog", "Writes and metric points not yet in MLflow, per mirrored study."), labels: labels
        ).set(Double(study.backlog))
        registry.makeGauge(
          descriptor: Self.named("hpod_mlflow_refused_writes", "Writes MLflow refused for good, per mirrored study."),
          labels: labels
        ).set(Double(study.refusedWrites))
      }
    }
    return registry.emitToString() + Self.process.emitToString()
  }
}
