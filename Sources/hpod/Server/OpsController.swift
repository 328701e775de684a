import Foundation
import Hummingbird
import NIOCore
import TrackingBridge
import TrialScheduler

/// /healthz, /readyz and /metrics (Prometheus text format).
struct OpsController {
  let service: StudyService

  func add(to router: Router<AppRequestContext>) {
    router.get("healthz") { _, _ in "ok\n" }
    router.get("readyz") { _, _ -> Response in
      guard await service.isReady else {
        throw HTTPError(.serviceUnavailable, message: "resuming studies; not ready yet")
      }
      return Response(
        status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
    }
    router.get("metrics") { _, _ -> Response in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(string: try await PrometheusText.render(service))))
    }
  }
}

/// The daemon's metrics in Prometheus' text exposition format, read from the store.
enum PrometheusText {
  static let durationBuckets: [Double] = [1, 5, 15, 60, 300, 900, 3600, 14400]

  static func render(_ service: StudyService) async throws -> String {
    let database = service.database
    var out: [String] = []
    out.append("# HELP hpod_trials Trials in the store by state and tier.")
    out.append("# TYPE hpod_trials gauge")
    let rows = try database.trialStateCounts()
    for row in rows {
      out.append("hpod_trials{state=\"\(row.state)\",tier=\"\(row.tier)\"} \(row.count)")
    }
    out.append("# HELP hpod_studies Studies in the store by state.")
    out.append("# TYPE hpod_studies gauge")
    for (state, count) in try database.studyStateCounts().sorted(by: { $0.key < $1.key }) {
      out.append("hpod_studies{state=\"\(state)\"} \(count)")
    }
    out.append("# HELP hpod_study_paused 1 while a study waits for a store that cannot be written.")
    out.append("# TYPE hpod_study_paused gauge")
    for (id, _) in service.pausedStudies.sorted(by: { $0.key < $1.key }) {
      out.append("hpod_study_paused{study_id=\"\(id)\"} 1")
    }
    out.append(
      "# HELP hpod_trial_slots_in_use Trial processes running now (the --max-concurrent-trials limit is hpod_trial_slots)."
    )
    out.append("# TYPE hpod_trial_slots_in_use gauge")
    out.append("hpod_trial_slots_in_use \(await service.slots.inUse)")
    out.append("# TYPE hpod_trial_slots gauge")
    out.append("hpod_trial_slots \(service.slots.limit)")
    out.append("# HELP hpod_trial_duration_seconds Wall-clock duration of finished trials.")
    out.append("# TYPE hpod_trial_duration_seconds histogram")
    let durations = try database.finishedTrialDurations()
    for bucket in durationBuckets {
      out.append("hpod_trial_duration_seconds_bucket{le=\"\(bucket)\"} \(durations.filter { $0 <= bucket }.count)")
    }
    out.append("hpod_trial_duration_seconds_bucket{le=\"+Inf\"} \(durations.count)")
    out.append("hpod_trial_duration_seconds_sum \(durations.reduce(0, +))")
    out.append("hpod_trial_duration_seconds_count \(durations.count)")
    let latency = service.suggestionLatency.snapshot()
    out.append("# HELP hpod_suggestion_seconds Time the search strategy took per suggestion.")
    out.append("# TYPE hpod_suggestion_seconds summary")
    out.append("hpod_suggestion_seconds_sum \(latency.sum)")
    out.append("hpod_suggestion_seconds_count \(latency.count)")
    let mirrored = try database.mirrorStatus()
    if !mirrored.isEmpty {
      out.append("# HELP hpod_mlflow_backlog Writes and metric points not yet in MLflow, per mirrored study.")
      out.append("# TYPE hpod_mlflow_backlog gauge")
      for study in mirrored { out.append("hpod_mlflow_backlog{study=\"\(study.studyId)\"} \(study.backlog)") }
      out.append("# HELP hpod_mlflow_refused_writes Writes MLflow refused for good, per mirrored study.")
      out.append("# TYPE hpod_mlflow_refused_writes gauge")
      for study in mirrored {
        out.append("hpod_mlflow_refused_writes{study=\"\(study.studyId)\"} \(study.refusedWrites)")
      }
    }
    return out.joined(separator: "\n") + "\n"
  }
}
