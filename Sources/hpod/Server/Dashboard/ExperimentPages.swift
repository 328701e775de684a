import Foundation
import Hummingbird
import TrackingBridge

/// What the MLflow API made outside studies, on the dashboard: `/experiments` (every
/// experiment), `/experiments/{id}` (its runs), `/experiments/{id}/runs/{run}` (a run's params,
/// metrics, tags, note and artifacts). A study's trial there redirects to its run page. The
/// "View run" link the mlflow client prints, `<server>/#/experiments/<id>/runs/<run>`, reaches
/// the studies page (a fragment never reaches a server), whose script follows it here.
struct ExperimentPages {
  let store: TrackingStore

  /// Runs listed on an experiment's page, newest first.
  static let runsShown = 500

  func add(to router: Router<AppRequestContext>) {
    let group = router.group().add(middleware: HTMLErrorMiddleware())
    group.get("experiments", use: experiments)
    group.get("experiments/:id", use: experiment)
    group.get("experiments/:id/runs/:run", use: run)
  }

  @Sendable func experiments(request: Request, context: AppRequestContext) async throws -> Response {
    let store = store
    return try await DashboardController.rendered(request) {
      let all = try store.searchExperiments(viewType: .all, filter: nil)
      let rows: [HTML] = all.map { experiment in
        """
        <tr><td class="num">\(experiment.id)</td><td><a href="/experiments/\(experiment.id)">\(experiment.name)</a></td>\
        <td>\(experiment.lifecycleStage)</td><td><code>\(experiment.artifactRoot)</code></td>\
        <td>\(Format.date(Date(timeIntervalSince1970: Double(experiment.creationTime) / 1000)))</td></tr>
        """
      }
      return Page.simple(
        title: "Experiments", crumbs: [("studies", "/"), ("experiments", nil)],
        content: """
          <h1>Experiments</h1>
          <p>Studies' experiments and those made through hpod's MLflow API (<code>MLFLOW_TRACKING_URI</code> set to this daemon).</p>
          <table class="experiments"><caption>\(all.count) experiments</caption><thead><tr><th scope="col" class="num">id</th>\
          <th scope="col">name</th><th scope="col">stage</th><th scope="col">artifact location</th><th scope="col">created</th></tr></thead>
          <tbody>\(rows)</tbody></table>
          """)
    }
  }

  @Sendable func experiment(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let store = store
    return try await DashboardController.rendered(request) {
      let experiment = try Self.existing { try store.experiment(id: id) }
      let (runs, more) = try store.searchRuns(
        experimentIds: [id], filter: nil, viewType: .all, orderBy: [], maxResults: Self.runsShown, offset: 0)
      let rows: [HTML] = runs.map { run in
        let metrics = run.metrics.values.sorted { $0.key < $1.key }.prefix(6).map {
          "\($0.key)=\(Format.value($0.value))"
        }
        let params = run.params.sorted { $0.key < $1.key }.prefix(6).map { "\($0.key)=\($0.value)" }
        return """
          <tr><td><a href="/experiments/\(id)/runs/\(run.runId)">\(run.name)</a></td><td>\(run.status)</td>\
          <td>\(run.lifecycleStage)</td><td>\(Self.date(run.startTime))</td><td>\(params.joined(separator: ", "))</td>\
          <td>\(metrics.joined(separator: ", "))</td>\(NoteView.cell(run.tags[Note.tagKey]))</tr>
          """
      }
      let table: HTML =
        runs.isEmpty
        ? "<p class=\"empty\">No run in this experiment yet.</p>"
        : """
        <table class="tracked-runs"><caption>\(runs.count) runs\(more == nil ? "" : ", the newest \(Self.runsShown)")</caption>\
        <thead><tr><th scope="col">run</th><th scope="col">status</th><th scope="col">stage</th><th scope="col">started</th>\
        <th scope="col">params</th><th scope="col">metrics</th><th scope="col">note</th></tr></thead><tbody>\(rows)</tbody></table>
        """
      return Page.simple(
        title: experiment.name,
        crumbs: [("studies", "/"), ("experiments", "/experiments"), ("\(experiment.name) (experiment \(id))", nil)],
        content: """
          <h1>\(experiment.name) <span class="badge">\(experiment.lifecycleStage)</span></h1>
          <p>Experiment \(id) · artifacts at <code>\(experiment.artifactRoot)</code></p>
          \(table)
          """)
    }
  }

  @Sendable func run(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let runId = try context.parameters.require("run")
    // A study's trial has its own page.
    if runId.hasPrefix(TrackingStore.trialRunPrefix),
      let trialId = Int64(runId.dropFirst(TrackingStore.trialRunPrefix.count))
    {
      return Response(status: .seeOther, headers: [.location: "/hpod-trials/\(trialId)/"])
    }
    let store = store
    return try await DashboardController.rendered(request) {
      let run = try Self.existing { try store.run(runId) }
      guard run.experimentId == id else {
        throw HTTPError(.notFound, message: "run \(runId) is not in experiment \(id) (it is in \(run.experimentId))")
      }
      let experiment = try store.experiment(id: id)
      let params: [HTML] = run.params.sorted { $0.key < $1.key }.map {
        "<tr><th scope=\"row\">\($0.key)</th><td>\($0.value)</td></tr>"
      }
      let metrics: [HTML] = try run.metrics.values.sorted { $0.key < $1.key }.map { metric in
        let history = try store.metricHistory(runId, key: metric.key)
        let steps = history.map(\.step)
        return """
          <tr><th scope="row">\(metric.key)</th><td class="num">\(Format.value(metric.value))</td>\
          <td class="num">\(history.count)</td><td>\(steps.min().map { "\($0)–\(steps.max()!)" } ?? "")</td></tr>
          """
      }
      let tags: [HTML] = run.tags.filter { $0.key != Note.tagKey }.sorted { $0.key < $1.key }.map {
        "<tr><th scope=\"row\">\($0.key)</th><td>\($0.value)</td></tr>"
      }
      return Page.simple(
        title: "\(run.name) · \(experiment.name)",
        crumbs: [
          ("studies", "/"), ("experiments", "/experiments"), ("\(experiment.name)", "/experiments/\(id)"),
          (run.name, nil),
        ],
        content: """
          <h1>\(run.name) <span class="badge">\(run.status)</span></h1>
          <p>Run <code>\(run.runId)</code> of experiment \(experiment.name) · started \(Self.date(run.startTime))\
          \(run.endTime.map { " · ended \(Self.date($0))" } ?? "") · \(run.lifecycleStage)</p>
          \(run.tags[Note.tagKey].map { "<section class=\"note\"><h2>Note</h2><p style=\"white-space:pre-wrap\">\($0)</p></section>" } ?? HTML.empty)
          <div class="cards"><div class="card"><h3>Params</h3><table class="run-params">\(params)</table></div>
          <div class="card"><h3>Metrics</h3><table class="run-metrics"><thead><tr><th scope="col">metric</th>\
          <th scope="col">latest</th><th scope="col">points</th><th scope="col">steps</th></tr></thead><tbody>\(metrics)</tbody></table></div></div>
          <section aria-labelledby="artifacts-title"><h2 id="artifacts-title">Artifacts</h2>\(artifacts(run))</section>
          \(tags.isEmpty ? HTML.empty : "<details><summary>Tags (\(tags.count))</summary><table>\(tags)</table></details>")
          """)
    }
  }

  /// The run's files, each a download through hpod's artifact proxy; or where they are when
  /// hpod cannot read them (an experiment whose artifacts the client writes elsewhere).
  func artifacts(_ run: TrackingRun) -> HTML {
    let folder: String
    do {
      folder = try store.artifactDirectory(run.runId)
    } catch {
      return "<p class=\"empty\">The client keeps this run's artifacts at <code>\(run.artifactURI)</code>.</p>"
    }
    let files = Artifacts.list(in: URL(fileURLWithPath: folder))
    guard !files.isEmpty else { return "<p class=\"empty\">No artifact in this run yet.</p>" }
    let rows: [HTML] = files.map { file in
      let link =
        "/api/2.0/mlflow-artifacts/artifacts/\(run.experimentId)/\(run.runId)/artifacts/\(Artifacts.encode(file.path))"
      return
        "<tr><td><a href=\"\(link)\" download>\(file.path)</a></td><td class=\"num\">\(Format.bytes(file.size))</td></tr>"
    }
    return "<table class=\"run-artifacts\">\(rows)</table>"
  }

  /// The store's answer, or the 404 page MLflow's "does not exist" is.
  static func existing<T>(_ read: () throws -> T) throws -> T {
    do {
      return try read()
    } catch let error as TrackingError where error.code == .resourceDoesNotExist {
      throw HTTPError(.notFound, message: error.message)
    }
  }

  static func date(_ milliseconds: Int64?) -> String {
    Format.date(milliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) })
  }
}
