import Foundation
import HTTPTypes
import Hummingbird
import TrackingBridge

/// A run's metric histories, paged, and sampled for charts across runs; a run's artifacts
/// listed (MLflow's `metrics/get-history`, `metrics/get-history-bulk-interval`,
/// `artifacts/list`).
struct MLflowHistoryController {
  let store: TrackingStore

  /// MLflow's MAX_RUNS_GET_METRIC_HISTORY_BULK and MAX_RESULTS_PER_RUN.
  static let maxRuns = 100
  static let maxPointsPerRun = 2500

  func add(to group: RouterGroup<AppRequestContext>) {
    let store = store
    let route = MLflowTrackingController.route
    route(group, "metrics/get-history", [.get, .post]) { request in
      let history = try store.metricHistory(
        try MLflowTrackingController.runId(request), key: try request.requiredString("metric_key"))
      guard request.has("max_results") else { return ["metrics": history.map(MLflowJSON.metric)] }
      // Paged only when asked: without max_results the whole history, as MLflow answers.
      guard let size = try request.int64("max_results"), size > 0 else {
        throw TrackingError.invalid(
          "Invalid value \(try request.string("max_results") ?? "") for parameter 'max_results' supplied. It must be a positive integer."
        )
      }
      let offset = try request.pageOffset()
      let page = history.dropFirst(offset).prefix(Int(min(size, Int64(Int32.max))))
      var answer: [String: Any] = ["metrics": page.map(MLflowJSON.metric)]
      if offset + page.count < history.count {
        answer["next_page_token"] = MLflowRequest.pageToken(offset + page.count)
      }
      return answer
    }
    route(group, "metrics/get-history-bulk-interval", [.get]) { request in
      let runIds = try request.strings("run_ids")
      guard !runIds.isEmpty else { throw TrackingError.invalid("Missing value for required parameter 'run_ids'.") }
      guard runIds.count <= Self.maxRuns else {
        throw TrackingError.invalid(
          "GetMetricHistoryBulkInterval request must specify at most \(Self.maxRuns) run_ids. Received \(runIds.count) run_ids."
        )
      }
      let key = try request.requiredString("metric_key")
      let maxResults = try request.int64("max_results") ?? Int64(Self.maxPointsPerRun)
      guard (1...Int64(Self.maxPointsPerRun)).contains(maxResults) else {
        throw TrackingError.invalid("max_results must be between 1 and \(Self.maxPointsPerRun).")
      }
      let (start, end) = (try request.int64("start_step"), try request.int64("end_step"))
      if (start == nil) != (end == nil) {
        throw TrackingError.invalid("If either start step or end step are specified, both must be specified.")
      }
      if let start, let end, start > end {
        throw TrackingError.invalid(
          "end_step must be greater than start_step. Found start_step=\(start) and end_step=\(end).")
      }
      // A run this store lacks has no points, as MLflow 3.17's server answers.
      var histories: [String: [TrackingMetric]] = [:]
      for runId in Set(runIds) {
        do {
          histories[runId] = try store.metricHistory(runId, key: key)
        } catch let error as TrackingError where error.code == .resourceDoesNotExist {
          histories[runId] = []
        }
      }
      var metrics: [[String: Any]] = []
      for runId in runIds {
        let inRange = (histories[runId] ?? []).filter { point in
          guard let start, let end else { return true }
          return Int64(point.step) >= start && Int64(point.step) <= end
        }
        for point in MetricSampling.sample(inRange, maxResults: Int(maxResults)) {
          var json = MLflowJSON.metric(point)
          json["run_id"] = runId
          metrics.append(json)
        }
      }
      return ["metrics": metrics]
    }
    route(group, "artifacts/list", [.get]) { request in
      let runId = try MLflowTrackingController.runId(request)
      let run = try store.run(runId)
      let path = try request.string("path") ?? ""
      guard !path.contains("#"), !path.hasPrefix("/"), !path.contains("\\") else {
        throw TrackingError.invalid("Invalid path")
      }
      let location: ArtifactLocation
      do {
        location = try ArtifactLocation(folder: try store.artifactDirectory(runId), relative: path)
      } catch let error as TrackingError where error.code == .invalidParameterValue {
        throw TrackingError.invalid("Invalid path")
      }
      let inside = location.inside.joined(separator: "/")
      return [
        "root_uri": run.artifactURI,
        "files": try MLflowArtifactsController.listing(location, namesUnder: inside),
      ]
    }
  }
}
