import Foundation
import Hummingbird
import SearchStrategies
import Significance
import StudyAnalysis
import StudyModel
import TrackingBridge

/// The runs table of a study: every column sortable, filtered by tier and state, searched
/// by text (parameters, state, reason, note), 50 rows a page; computed on the study's snapshot, so no query per request.
struct RunsTable {
  struct Query {
    var sort = "number"
    var descending = false
    var state: TrialState?
    var tier: Tier?
    var text = ""
    var page = 1
    /// Ranges brushed on the parallel coordinates, and the trials those are drawn for.
    var brush = ParallelBrush()
    var brushTier: Tier?
    static let pageSize = 50

    init() {}

    init(_ query: [String: String]) throws {
      sort = query["sort"] ?? "number"
      descending = query["order"] == "desc"
      if let text = query["state"], !text.isEmpty {
        guard let state = TrialState(rawValue: text) else {
          throw HTTPError(
            .badRequest, message: "state must be one of \(TrialState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.state = state
      }
      if let text = query["tier"], !text.isEmpty {
        guard let tier = Tier(rawValue: text) else {
          throw HTTPError(.badRequest, message: "tier must be quick_test or full_training")
        }
        self.tier = tier
      }
      text = query["q"] ?? ""
      if let text = query["page"], !text.isEmpty {
        guard let page = Int(text), page >= 1 else { throw HTTPError(.badRequest, message: "page must be 1 or more") }
        self.page = page
      }
      brush = try ParallelBrush(query["brush"])
      brushTier = query["view"].flatMap { Tier(rawValue: $0) }
    }
  }

  let snapshot: StudySnapshot
  let query: Query
  /// The page's other query parameters, kept in the table's links.
  let keep: [(String, String?)]
  /// The runs' notes by trial id (read for each render: a note set through the MLflow API
  /// changes no trial, so the snapshot would not see it).
  var notes: [Int64: String] = [:]

  var columns: [String] {
    ["number", "tier", "state", "value"] + (snapshot.repeatSummaries.isEmpty ? [] : ["repeats"])
      + ["duration", "source"] + snapshot.parameterNames.map { "param.\($0)" }
      + snapshot.metricNames.dropFirst().map { "metric.\($0)" } + (notes.isEmpty ? [] : ["note"])
  }

  func rows() throws -> [TrialRecord] {
    guard columns.contains(query.sort) else {
      throw HTTPError(
        .badRequest, message: "sort must be one of the table's columns: \(columns.joined(separator: ", "))")
    }
    let needle = query.text.lowercased().trimmingCharacters(in: .whitespaces)
    let brushed = try query.brush.filter(snapshot, tier: query.brushTier)
    let matching = snapshot.trials.filter { trial in
      if let state = query.state, trial.state != state { return false }
      if let tier = query.tier, trial.tier != tier { return false }
      if !brushed(trial) { return false }
      guard !needle.isEmpty else { return true }
      return searchText(trial).contains(needle)
    }
    let key = sortKey(query.sort)
    // Each key computed once, not once per comparison.
    let keyed = matching.map { ($0, key($0)) }
    return keyed.sorted { left, right in
      let (a, b) = (left.0, right.0)
      switch (left.1, right.1) {
      case (nil, nil): return a.number < b.number
      case (nil, _): return false
      case (_, nil): return true
      case (let x?, let y?):
        if x == y { return a.number < b.number }
        return query.descending ? x > y : x < y
      }
    }.map(\.0)
  }

  enum Key: Comparable {
    case number(Double)
    case text(String)

    static func < (lhs: Key, rhs: Key) -> Bool {
      switch (lhs, rhs) {
      case (.number(let a), .number(let b)): a < b
      case (.text(let a), .text(let b)): a < b
      case (.number, .text): true
      case (.text, .number): false
      }
    }
  }

  func sortKey(_ column: String) -> (TrialRecord) -> Key? {
    switch column {
    case "number": return { .number(Double($0.number)) }
    case "tier": return { .text($0.tier.rawValue) }
    case "state": return { .text($0.state.rawValue) }
    case "value":
      // Best first when ascending.
      let sign = snapshot.direction == .maximize ? -1.0 : 1.0
      return { $0.value.flatMap { $0.isFinite ? .number(sign * $0) : nil } }
    case "repeats":
      // The configuration's mean, best first when ascending.
      let sign = snapshot.direction == .maximize ? -1.0 : 1.0
      return { trial in snapshot.repeatSummary(of: trial).map { .number(sign * $0.mean) } }
    case "duration": return { $0.duration.map { .number($0) } }
    case "note": return { trial in notes[trial.id!].map { .text($0.lowercased()) } }
    case "source":
      return { trial in trial.sourceTrialId.flatMap { snapshot.trial(id: $0) }.map { .number(Double($0.number)) } }
    default:
      if column.hasPrefix("param.") {
        let name = String(column.dropFirst(6))
        return { trial in
          guard let value = snapshot.configurations[trial.id!]?[name] else { return nil }
          return value.numericValue.map { .number($0) } ?? .text(value.description)
        }
      }
      let name = String(column.dropFirst(7))
      return { trial in snapshot.finalMetrics[trial.id!]?[name].map { .number($0) } }
    }
  }

  func searchText(_ trial: TrialRecord) -> String {
    var parts = ["#\(trial.number)", trial.tier.rawValue, trial.state.rawValue, trial.reason ?? ""]
    for (name, value) in snapshot.configurations[trial.id!] ?? Configuration() { parts.append("\(name)=\(value)") }
    if let note = notes[trial.id!] { parts.append(note) }
    return parts.joined(separator: " ").lowercased()
  }

  func link(_ changes: [(String, String?)]) -> String {
    var pairs = keep
    let current: [(String, String?)] = [
      ("sort", query.sort == "number" ? nil : query.sort), ("order", query.descending ? "desc" : nil),
      ("state", query.state?.rawValue), ("tier", query.tier?.rawValue), ("q", query.text),
      ("page", query.page == 1 ? nil : String(query.page)), ("brush", query.brush.text),
    ]
    for (key, value) in current where !changes.contains(where: { $0.0 == key }) { pairs.append((key, value)) }
    pairs += changes
    return "/studies/\(snapshot.id)" + HTML.query(pairs)
  }

  func render() throws -> HTML {
    let all = try rows()
    let pages = max(1, (all.count + Query.pageSize - 1) / Query.pageSize)
    let page = min(query.page, pages)
    let shown = all.dropFirst((page - 1) * Query.pageSize).prefix(Query.pageSize)
    var header: [HTML] = [
      "<th scope=\"col\"><span class=\"visually-hidden\">select</span></th>"
    ]
    for column in columns {
      let label = column == "value" ? snapshot.objective : column
      let active = column == query.sort
      let order = active && !query.descending ? "desc" : nil
      let sortState: HTML =
        active ? (query.descending ? " aria-sort=\"descending\"" : " aria-sort=\"ascending\"") : .empty
      let numeric = column != "tier" && column != "state" && column != "note"
      header.append(
        "<th scope=\"col\"\(sortState)\(numeric ? HTML(raw: " class=\"num\"") : .empty)><a data-refresh=\"runs\" href=\"\(link([("sort", column == "number" ? nil : column), ("order", order), ("page", nil)]))\" aria-label=\"sort by \(label)\">\(label)</a></th>"
      )
    }
    var body: [HTML] = []
    body.reserveCapacity(shown.count)
    let metricNames = Array(snapshot.metricNames.dropFirst())
    for trial in shown {
      let configuration = snapshot.configurations[trial.id!] ?? Configuration()
      let metrics = snapshot.finalMetrics[trial.id!] ?? [:]
      let source = trial.sourceTrialId.flatMap { snapshot.trial(id: $0) }
      var cells: [HTML] = [
        "<td><input type=\"checkbox\" name=\"trials\" value=\"\(trial.number)\" form=\"compare-form\" aria-label=\"select trial \(trial.number) to compare\"></td>",
        "<td class=\"num\"><a href=\"/studies/\(snapshot.id)/runs/\(trial.number)\">\(trial.number)</a></td>",
        "<td>\(trial.tier.rawValue)</td>",
        "<td><span class=\"badge \(trial.state.rawValue)\">\(trial.state.rawValue)</span>\(snapshot.heldTrialIds.contains(trial.id!) ? HTML(raw: " <span class=\"badge paused\">paused</span>") : .empty)</td>",
        "<td class=\"num\">\(Format.value(trial.value))</td>",
      ]
      if !snapshot.repeatSummaries.isEmpty {
        let summary = snapshot.repeatSummary(of: trial)
        cells.append(
          "<td class=\"num\">\(summary.map { "#\(trial.repeatIndex + 1) · \(Format.repeats($0))" } ?? "")</td>")
      }
      cells += [
        "<td class=\"num\">\(Format.duration(trial.duration))</td>",
        source.map { "<td class=\"num\"><a href=\"/studies/\(snapshot.id)/runs/\($0.number)\">\($0.number)</a></td>" }
          ?? "<td></td>",
      ]
      for name in snapshot.parameterNames {
        cells.append("<td class=\"num\">\(configuration[name].map { Format.parameter($0) } ?? "")</td>")
      }
      for name in metricNames { cells.append("<td class=\"num\">\(Format.value(metrics[name]))</td>") }
      if !notes.isEmpty { cells.append(NoteView.cell(notes[trial.id!])) }
      body.append("<tr data-trial=\"\(trial.number)\">\(cells)</tr>")
    }
    let from = all.isEmpty ? 0 : (page - 1) * Query.pageSize + 1
    let to = (page - 1) * Query.pageSize + shown.count
    let previous: HTML =
      page > 1
      ? "<a data-refresh=\"runs\" href=\"\(link([("page", page == 2 ? nil : String(page - 1))]))\" rel=\"prev\">← previous</a>"
      : .empty
    let next: HTML =
      page < pages
      ? "<a data-refresh=\"runs\" href=\"\(link([("page", String(page + 1))]))\" rel=\"next\">next →</a>" : .empty
    let brushCaption: HTML =
      query.brush.isEmpty
      ? .empty
      : " · inside the ranges brushed on the parallel coordinates: \(query.brush.described(snapshot)) · <a data-refresh=\"runs\" data-clear-brush href=\"\(link([("brush", nil), ("page", nil)]))\">clear</a>"
    return """
      <div class="scroll runs-scroll"><table class="runs" data-rows="\(all.count)"><caption>Runs \(from)–\(to) of \(all.count) matching \
      (\(snapshot.trials.count) in the study)\(brushCaption)</caption><thead><tr>\(header)</tr></thead><tbody>\(body)</tbody></table></div>
      <p class="pager">\(previous) page \(page) of \(pages) \(next)</p>
      """
  }
}

extension Format {
  /// "0.9132 ± 0.0041 (n = 3)".
  static func repeats(_ summary: SampleSummary) -> String { RepeatGroups.describe(summary) }

  static func parameter(_ value: ParameterValue) -> String { value.shown }
}
