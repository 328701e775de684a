import Foundation
import HPODAPI
import TrialScheduler

/// The list of studies: state, progress and best value, refreshed on every study's events.
struct StudiesPage {
  let studies: [API.Study]

  func page() -> Page {
    Page(
      title: "Studies", crumbs: [("studies", nil)], parts: [("studies", { table() })], events: "/api/v1/events",
      liveParts: ["studies"]
    ) { part in
      """
      <h1>Studies</h1>
      <section aria-labelledby="studies-title"><h2 id="studies-title" class="visually-hidden">All studies</h2>\(try part("studies"))</section>
      <p>Submit a study with <code>hpod submit study.yaml</code>; it shows up here and updates live.       Experiments and runs made through hpod's MLflow API: <a href="/experiments">experiments</a>.</p>
      \(Self.followMLflowLink)
      """
    }
  }

  /// The mlflow client's "View run" and "View experiment" links (`/#/experiments/<id>/runs/<run>`)
  /// land here with the path in the fragment, which only the browser sees: it goes on to the page.
  static let followMLflowLink: HTML = #"""
    <script>(function () {
      var m = location.hash.match(/^#\/experiments\/(\d+)(?:\/runs\/([0-9A-Za-z_-]+))?/);
      if (m) location.replace('/experiments/' + m[1] + (m[2] ? '/runs/' + m[2] : ''));
    })();</script>
    """#

  func table() -> HTML {
    guard !studies.isEmpty else {
      return "<p class=\"empty\">No study yet. Submit one with <code>hpod submit study.yaml</code>.</p>"
    }
    let rows: [HTML] = studies.map { study in
      let quick = study.quickTests
      let open = (study.counts["running"] ?? 0) + (study.counts["pending"] ?? 0)
      let finished = max(0, quick - open)
      let share = study.maxTrials.map { min(1, Double(finished) / Double(max($0, 1))) }
      let progress: HTML =
        share.map {
          """
          <div class="progress" role="progressbar" aria-label="progress of study \(study.id)" aria-valuemin="0" \
          aria-valuemax="100" aria-valuenow="\(Int($0 * 100))"><span style="width:\(Int($0 * 100))%"></span></div>
          """
        } ?? .empty
      let best: HTML =
        study.best.map {
          "\(Format.value($0.value)) <a href=\"/studies/\(study.id)/runs/\($0.number)\">trial \($0.number)</a> (\($0.tier))"
        } ?? "–"
      return """
        <tr data-study="\(study.id)"><td class="num">\(study.id)</td><td><a href="/studies/\(study.id)">\(study.name)</a></td>\
        <td><span class="badge \(study.state)">\(study.state)</span></td>\
        <td>\(progress)\(finished)\(study.maxTrials.map { " / \($0)" } ?? "") quick tests\
        \(study.fullTrainings > 0 ? " · \(study.fullTrainings) full" : "")\(open > 0 ? " · \(open) running" : "")</td>\
        <td>\(study.objective.direction) \(study.objective.metric)</td><td>\(best)</td><td>\(Format.date(study.updatedAt))</td></tr>
        """
    }
    return """
      <table class="studies"><caption>\(studies.count) \(studies.count == 1 ? "study" : "studies"), newest first</caption>
      <thead><tr><th scope="col" class="num">id</th><th scope="col">name</th><th scope="col">state</th>\
      <th scope="col">progress</th><th scope="col">objective</th><th scope="col">best value</th><th scope="col">updated</th></tr></thead>
      <tbody>\(rows)</tbody></table>
      """
  }
}
