import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge
import TrialScheduler

/// Population-based training on the dashboard: the population's lineage on the study page
/// (each slot's members in turn, every copy with its step, donor and explored parameters)
/// and, on a run's page, what the run continues and what replaced it.
enum LineageView {
  /// The study page's `lineage` part, for a study of `search: {algorithm: pbt}` alone.
  static func parts(_ snapshot: StudySnapshot, database: AppDatabase?) -> [(name: String, render: () throws -> HTML)] {
    guard snapshot.spec?.search.populationBasedTraining != nil, let database else { return [] }
    return [("lineage", { study(try lineage(snapshot, database: database), snapshot) })]
  }

  /// The section around the part, when the study has one.
  static func section(_ parts: [(name: String, render: () throws -> HTML)], _ part: (String) throws -> HTML) throws
    -> HTML
  {
    guard parts.contains(where: { $0.name == "lineage" }) else { return .empty }
    return """
      <section aria-labelledby="lineage-title"><h2 id="lineage-title">Population lineage</h2>\(try part("lineage"))</section>
      """
  }

  /// Read once per snapshot, shared by the study's page and its runs' pages.
  static func lineage(_ snapshot: StudySnapshot, database: AppDatabase) throws -> PopulationLineage {
    try snapshot.memo.value("population lineage") { try PopulationLineage.read(snapshot, database: database) }
  }

  static func link(_ trial: TrialRecord?, _ snapshot: StudySnapshot) -> HTML {
    guard let trial else { return "–" }
    return "<a href=\"/studies/\(snapshot.id)/runs/\(trial.number)\">trial \(trial.number)</a>"
  }

  static func study(_ lineage: PopulationLineage, _ snapshot: StudySnapshot) -> HTML {
    let slots: [HTML] = lineage.slots.enumerated().map { index, members in
      let steps: [HTML] = members.enumerated().map { position, trial in
        let copy = lineage.copy(creating: trial)
        let from: HTML = copy.map { " <small>(copy of \(link($0.donor, snapshot)))</small>" } ?? .empty
        let ended: HTML =
          lineage.copy(replacing: trial).map { " <small>replaced at step \($0.step.map(String.init) ?? "?")</small>" }
          ?? " <span class=\"badge \(trial.state.rawValue)\">\(trial.state.rawValue)</span> \(Format.value(trial.value))"
        return "\(position > 0 ? " → " : "")\(link(trial, snapshot))\(from)\(ended)"
      }
      return "<li data-slot=\"\(index)\">\(steps)</li>"
    }
    let rows: [HTML] = lineage.copies.map { copy in
      """
      <tr data-trial="\(copy.child.number)"><td class="num">\(copy.step.map(String.init) ?? "–")</td>\
      <td>\(link(copy.replaced, snapshot)) \(Format.value(copy.replaced?.value))</td>\
      <td>\(link(copy.donor, snapshot))</td><td class="num">\(copy.copiedUpTo.map(String.init) ?? "–")</td>\
      <td>\(link(copy.child, snapshot)) <span class="badge \(copy.child.state.rawValue)">\(copy.child.state.rawValue)</span> \
      \(Format.value(copy.child.value))</td><td>\(copy.explore)</td></tr>
      """
    }
    let table: HTML =
      lineage.isEmpty
      ? "<p class=\"empty\">No member has been replaced yet.</p>"
      : """
      <table class="lineage"><caption>\(lineage.copies.count) cop\(lineage.copies.count == 1 ? "y" : "ies") of a better member's checkpoint</caption>
      <thead><tr><th scope="col" class="num">step</th><th scope="col">member replaced (\(snapshot.objective) then)</th>\
      <th scope="col">checkpoint of</th><th scope="col" class="num">history copied to step</th>\
      <th scope="col">replacement</th><th scope="col">parameters explored</th></tr></thead><tbody>\(rows)</tbody></table>
      """
    return """
      <p>Each of the population's \(lineage.slots.count) slots, its members in turn: a member in the bottom of the \
      ranking is stopped and replaced by a copy of a better member's checkpoint with explored parameters.</p>
      <ol class="slots">\(slots)</ol>\(table)
      """
  }

  /// A run's place in the lineage: the copy it continues (with its ancestry, the schedule of
  /// parameters its weights were trained with) and what replaced it.
  static func run(_ trial: TrialRecord, _ snapshot: StudySnapshot, database: AppDatabase) throws -> HTML {
    guard snapshot.spec?.search.populationBasedTraining != nil else { return .empty }
    let lineage = try lineage(snapshot, database: database)
    var blocks: [HTML] = []
    if let copy = lineage.copy(creating: trial) {
      let upTo: HTML = copy.copiedUpTo.map { " (its history up to step \($0) copied with it)" } ?? ""
      blocks.append(
        """
        <p class="pbt-copy">Replaces member \(link(copy.replaced, snapshot))\(copy.step.map { " stopped at step \($0)" } ?? ""): \
        continues the checkpoint of \(link(copy.donor, snapshot))\(upTo).</p>
        \(changes(copy, snapshot))
        """)
      let ancestry = lineage.ancestry(of: trial)
      if ancestry.count > 1 {
        let items: [HTML] = ancestry.map { step in
          "<li>\(link(step.child, snapshot)) copied \(link(step.donor, snapshot)) at step \(step.step.map(String.init) ?? "?"): \(step.explore)</li>"
        }
        blocks.append("<details><summary>Ancestry (\(ancestry.count) copies)</summary><ol>\(items)</ol></details>")
      }
    }
    if let replacement = lineage.copy(replacing: trial) {
      blocks.append(
        """
        <p class="pbt-replaced">Replaced\(replacement.step.map { " at step \($0)" } ?? "") by \(link(replacement.child, snapshot)), \
        a copy of the checkpoint of \(link(replacement.donor, snapshot)).</p>
        """)
    }
    if blocks.isEmpty { blocks.append("<p>A first member of the population: it was not copied from another.</p>") }
    return """
      <section aria-labelledby="pbt-title"><h2 id="pbt-title">Population-based training</h2>\(blocks)</section>
      """
  }

  /// The replacement's parameters beside its donor's, what changed marked.
  static func changes(_ copy: PopulationLineage.Copy, _ snapshot: StudySnapshot) -> HTML {
    guard let donor = copy.donor else { return "<p>Explored: \(copy.explore)</p>" }
    let mine = snapshot.configurations[copy.child.id!] ?? Configuration()
    let theirs = snapshot.configurations[donor.id!] ?? Configuration()
    let rows: [HTML] = snapshot.parameterNames.compactMap { name in
      guard let value = mine[name] else { return nil }
      let before = theirs[name]
      let changed = before != value
      return """
        <tr\(changed ? HTML(raw: " class=\"changed\"") : .empty)><th scope="row">\(name)</th>\
        <td>\(before.map { Format.parameter($0) } ?? "–")</td><td>\(Format.parameter(value))</td></tr>
        """
    }
    return """
      <table class="pbt-explore"><caption>Explored: \(copy.explore)</caption><thead><tr><th scope="col">parameter</th>\
      <th scope="col">trial \(donor.number)</th><th scope="col">this run</th></tr></thead><tbody>\(rows)</tbody></table>
      """
  }
}
