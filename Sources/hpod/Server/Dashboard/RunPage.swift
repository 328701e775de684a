import Foundation
import SearchStrategies
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

/// One run: parameters, metric history curves, log tail, artifacts, tags, and the button
/// that trains a quick test in full.
struct RunPage {
  let snapshot: StudySnapshot
  let trial: TrialRecord
  let database: AppDatabase
  /// What the promote form answered, shown once after its redirect.
  var message: String?

  var id: Int64 { snapshot.id }

  func page() -> Page {
    let parts: [(name: String, render: () throws -> HTML)] = [
      ("summary", { summary() }),
      ("metrics", { try metrics() }),
      ("logs", { logs() }),
      ("artifacts", { artifacts() }),
    ]
    return Page(
      title: "trial \(trial.number) · \(snapshot.study.name)",
      crumbs: [
        ("studies", "/"), ("\(snapshot.study.name) (study \(id))", "/studies/\(id)"), ("trial \(trial.number)", nil),
      ],
      parts: parts, events: trial.state.isFinished ? nil : "/api/v1/studies/\(id)/events",
      liveParts: ["summary", "metrics", "logs", "artifacts"], metricParts: ["metrics", "logs"]
    ) { part in
      """
      <h1>Trial \(trial.number) <span class="badge \(trial.state.rawValue)">\(trial.state.rawValue)</span></h1>
      \(message.map { "<p class=\"message\" role=\"status\">\($0)</p>" } ?? HTML.empty)
      \(try part("summary"))
      \(try LineageView.run(trial, snapshot, database: database))
      \(NoteView.block(try database.trialNote(trialId: trial.id!), action: "/studies/\(id)/runs/\(trial.number)/note", of: "run"))
      <section aria-labelledby="metrics-title"><h2 id="metrics-title">Metric history</h2>\(try part("metrics"))</section>
      <section aria-labelledby="logs-title"><h2 id="logs-title">Log tail</h2>\(try part("logs"))</section>
      <section aria-labelledby="artifacts-title"><h2 id="artifacts-title">Artifacts</h2>\(try part("artifacts"))</section>
      """
    }
  }

  func summary() -> HTML {
    let configuration = snapshot.configurations[trial.id!] ?? Configuration()
    let params: [HTML] = snapshot.parameterNames.compactMap { name in
      configuration[name].map { "<tr><th scope=\"row\">\(name)</th><td>\($0.shown)</td></tr>" }
    }
    let finals: [HTML] = (snapshot.finalMetrics[trial.id!] ?? [:]).sorted { $0.key < $1.key }.map {
      "<tr><th scope=\"row\">\($0.key)</th><td class=\"num\">\(Format.value($0.value))</td></tr>"
    }
    var links: [HTML] = []
    if let source = trial.sourceTrialId.flatMap({ snapshot.trial(id: $0) }) {
      links.append(
        "full training of quick test <a href=\"/studies/\(id)/runs/\(source.number)\">trial \(source.number)</a>")
    }
    if let summary = snapshot.repeatSummary(of: trial) {
      let first = trial.repeatOf.flatMap { snapshot.trial(id: $0) } ?? trial
      let others = snapshot.trials.filter { $0.configurationId == trial.configurationId && $0.id != trial.id }
        .map { "<a href=\"/studies/\(id)/runs/\($0.number)\">\($0.number)</a>" as HTML }
      links.append(
        "repeat \(trial.repeatIndex + 1) (seed \(trial.seed.map(String.init) ?? "–")) of the configuration of trial \(first.number): \(snapshot.objective) \(Format.repeats(summary)) over repeats \(HTML(raw: others.map(\.description).joined(separator: ", ")))"
      )
    }
    if let full = snapshot.fullTrainingOf[trial.id!] {
      links.append(
        "trained in full as <a href=\"/studies/\(id)/runs/\(full.number)\">trial \(full.number)</a> (\(full.state.rawValue))"
      )
    }
    if let retry = trial.retryOf.flatMap({ snapshot.trial(id: $0) }) {
      links.append("re-run of <a href=\"/studies/\(id)/runs/\(retry.number)\">trial \(retry.number)</a>")
    }
    if let best = snapshot.best(), best.id != trial.id {
      links.append(
        "<a href=\"/studies/\(id)/compare?trials=\(trial.number),\(best.number)\">compare with the best (trial \(best.number))</a>"
      )
    }
    if let run = try? database.mirroredRun(trialId: trial.id!),
      let target = try? database.mirrorTarget(studyId: trial.studyId), let experiment = target.experimentId
    {
      let url = "\(target.uri)/#/experiments/\(experiment)/runs/\(run.runId)"
      links.append("<a href=\"\(url)\">its run in MLflow</a>")
    }
    let reason: HTML = trial.reason.map { "<dt>reason</dt><dd>\($0)</dd>" } ?? .empty
    // A re-run resumed what the attempts before it trained: their time counts too.
    let time = trial.retryOf == nil ? nil : (try? database.attempts(endingWith: trial)).map(AttemptTime.of(chain:))
    let acrossAttempts: HTML =
      time.map { " (\(Format.duration($0.seconds)) over \($0.attempt) attempts)" } ?? .empty
    let runsOn: HTML = trial.executorHandle.map { "<dt>runs on</dt><dd>\($0.description)</dd>" } ?? .empty
    let allTags = (try? database.tags(trialId: trial.id!)) ?? [:]
    let tags = allTags.filter { $0.key != Note.tagKey }
    let tagRows: [HTML] = tags.sorted { $0.key < $1.key }.map {
      "<tr><th scope=\"row\">\($0.key)</th><td>\($0.value)</td></tr>"
    }
    // Params the trial's script logged itself (mlflow.log_param, autolog), beside hpod's.
    let logged = ((try? database.params(trialId: trial.id!)) ?? []).filter { configuration[$0.name] == nil }
    let loggedRows: [HTML] = logged.map { "<tr><th scope=\"row\">\($0.name)</th><td>\($0.value)</td></tr>" }
    return """
      <div class="cards">
      <div class="card"><h3>\(snapshot.objective)</h3><div class="big">\(Format.value(trial.value))</div>
      <dl><dt>tier</dt><dd>\(trial.tier.rawValue)</dd><dt>duration</dt><dd>\(Format.duration(trial.duration))\(acrossAttempts)</dd>\
      <dt>started</dt><dd>\(Format.date(trial.startedAt))</dd><dt>exit</dt><dd>\(trial.exitCode.map(String.init) ?? "–")\
      \(trial.signal.map { " (signal \($0))" } ?? "")</dd>\(runsOn)\(reason)</dl></div>
      <div class="card"><h3>Parameters</h3><table>\(params)</table></div>
      <div class="card"><h3>Final metrics</h3><table>\(finals)</table></div>
      </div>
      <p>\(links.enumerated().map { $0.offset == 0 ? $0.element : " · " + $0.element })</p>
      \(PauseControls.trial(trial, tags: allTags, in: snapshot))
      \(PromoteButton(snapshot: snapshot, trial: trial, label: "Run full training with trial \(trial.number)").render())
      \(logged.isEmpty ? HTML.empty : "<details><summary>Params the script logged (\(logged.count))</summary><table class=\"logged-params\">\(loggedRows)</table></details>")
      \(tags.isEmpty ? HTML.empty : "<details><summary>Tags (\(tags.count))</summary><table>\(tagRows)</table></details>")
      """
  }

  func metrics() throws -> HTML {
    let points = try database.metrics(trialId: trial.id!)
    guard !points.isEmpty else { return "<p class=\"empty\">No metric reported yet.</p>" }
    let byName = Dictionary(grouping: points, by: \.name)
    let names =
      [snapshot.objective].filter { byName[$0] != nil } + byName.keys.filter { $0 != snapshot.objective }.sorted()
    let charts: [HTML] = names.map { name in
      let series = byName[name]!.map { (x: Double($0.step), y: $0.value) }
      return SVGLineChart(
        title: "\(name) by step, trial \(trial.number)", xLabel: "step", yLabel: name,
        series: [.init(name: name, points: series, style: series.count == 1 ? .points : .line, colour: 0)], width: 480,
        height: 220
      ).render()
    }
    return "<div class=\"two\">\(charts)</div>"
  }

  func logs() -> HTML {
    let blocks: [HTML] = LogStream.allCases.map { stream in
      let text = LogTail.read(trial, stream, lines: 200)
      let tail: HTML =
        text.isEmpty
        ? "<p class=\"empty\">empty</p>" : "<pre tabindex=\"0\" aria-label=\"\(stream.rawValue) tail\">\(text)</pre>"
      return """
        <h3>\(stream.rawValue)</h3>\(tail)
        <p><a href="/api/v1/trials/\(trial.id!)/log?stream=\(stream.rawValue)&amp;tail=100000">whole \(stream.rawValue)</a></p>
        """
    }
    return "\(blocks)"
  }

  func artifacts() -> HTML {
    let files = Artifacts.list(trial)
    guard !files.isEmpty else { return "<p class=\"empty\">No artifact in this run's folder.</p>" }
    let rows: [HTML] = files.map { file in
      """
      <tr><td><a href="/studies/\(id)/runs/\(trial.number)/artifacts/\(Artifacts.encode(file.path))" download>\(file.path)</a></td>\
      <td class="num">\(Format.bytes(file.size))</td></tr>
      """
    }
    return """
      <table class="artifacts"><caption>\(files.count) file\(files.count == 1 ? "" : "s") in the run's artifacts folder</caption>
      <thead><tr><th scope="col">file</th><th scope="col" class="num">size</th></tr></thead><tbody>\(rows)</tbody></table>
      """
  }
}

/// The button that trains a quick test in full (POST .../promote), or why it cannot.
struct PromoteButton {
  let snapshot: StudySnapshot
  let trial: TrialRecord
  let label: String

  func render() -> HTML {
    if snapshot.pendingPromotions.contains(trial.id!) {
      return "<p class=\"message\">Full training of trial \(trial.number) requested; it starts when a slot is free.</p>"
    }
    guard snapshot.canPromote(trial) else { return .empty }
    let output = "promote-\(trial.number)"
    return """
      <form method="post" action="/studies/\(snapshot.id)/runs/\(trial.number)/promote" class="controls">
      <button type="submit" data-promote="/api/v1/studies/\(snapshot.id)/trials/\(trial.number)/promote" \
      data-output="\(output)">\(label)</button><span id="\(output)" class="message" role="status" aria-live="polite"></span></form>
      """
  }
}

/// The files of a run's artifacts folder, and the only way a request reaches one of them.
enum Artifacts {
  struct File {
    var path: String
    var size: Int
  }

  static let limit = 500

  static func folder(_ trial: TrialRecord) -> URL? {
    guard let directory = trial.runDirectory, !directory.isEmpty else { return nil }
    return URL(fileURLWithPath: directory).appendingPathComponent("artifacts").standardizedFileURL
  }

  static func list(_ trial: TrialRecord) -> [File] {
    folder(trial).map(list(in:)) ?? []
  }

  /// The regular files under `folder`, by path from it (at most `limit`).
  static func list(in folder: URL) -> [File] {
    guard
      let walker = FileManager.default.enumerator(
        at: folder, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey], options: [.skipsHiddenFiles])
    else { return [] }
    var files: [File] = []
    let base = folder.path + "/"
    for case let url as URL in walker {
      guard files.count < limit else { break }
      let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
      guard values?.isRegularFile == true else { continue }
      let path = url.standardizedFileURL.path
      guard path.hasPrefix(base) else { continue }
      files.append(File(path: String(path.dropFirst(base.count)), size: values?.fileSize ?? 0))
    }
    return files.sorted { $0.path < $1.path }
  }

  /// The file `relative` inside the trial's artifacts folder, or nil when the path leaves it
  /// (`..`, absolute paths, symbolic links pointing out) or is not a regular file.
  static func resolve(_ trial: TrialRecord, _ relative: String) -> URL? {
    guard let folder = folder(trial), !relative.isEmpty, !relative.hasPrefix("/"),
      !relative.split(separator: "/").contains(where: { $0 == ".." || $0 == "." })
    else { return nil }
    let root = folder.resolvingSymlinksInPath().path + "/"
    let file = folder.appendingPathComponent(relative).resolvingSymlinksInPath()
    var isDirectory: ObjCBool = false
    guard file.path.hasPrefix(root), FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory),
      !isDirectory.boolValue
    else { return nil }
    return file
  }

  static func encode(_ path: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "?#;")
    return path.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
      .joined(separator: "/")
  }
}
