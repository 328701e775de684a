import Dispatch
import Foundation
import HPODAPI
import Synchronization

/// The page shell every dashboard page shares: head, the stylesheet, header, and the small
/// script for live updates (server-sent events), part refreshes and the promote buttons
/// (both files of Assets/, served by `DashboardAssets`).
struct Page {
  var title: String
  var crumbs: [(String, String?)] = []
  /// Parts by name, rendered lazily: `?part=NAME` returns one of them alone.
  var parts: [(name: String, render: () throws -> HTML)] = []
  /// The event stream that keeps the page live, and the parts each kind of event refreshes.
  var events: String?
  var liveParts: [String] = []
  var metricParts: [String] = []
  /// Whether the page has interactive charts: it then loads uPlot and charts.js.
  var charts = false
  /// Whether the whole page renders its parts side by side, each on a core (the study page's
  /// charts and analyses are independent of one another).
  var concurrentParts = false
  /// Markup around the parts: what comes before each named part.
  var layout: (_ part: (String) throws -> HTML) throws -> HTML

  func render() throws -> HTML {
    let rendered = concurrentParts ? renderedParts() : nil
    let content = try layout { name in
      guard let rendered else { return try part(name) }
      return "<div data-part=\"\(name)\">\(try rendered[name]?.get() ?? .empty)</div>"
    }
    let crumbs = self.crumbs.map { label, link -> HTML in
      if let link { return "<a href=\"\(link)\">\(label)</a>" }
      return "<span aria-current=\"page\">\(label)</span>"
    }
    let live: HTML =
      events == nil
      ? .empty
      : "<span id=\"live-status\" class=\"live\" role=\"status\" aria-live=\"polite\">live updates need JavaScript</span>"
    let chartStyle: HTML =
      charts ? "<link rel=\"stylesheet\" href=\"\(DashboardAssets.path(DashboardAssets.chartLibraryStyle))\">" : .empty
    let chartScripts: HTML =
      charts
      ? """
      <script src="\(DashboardAssets.path(DashboardAssets.chartLibrary))"></script>\
      <script src="\(DashboardAssets.path(DashboardAssets.charts))"></script>
      """ : .empty
    return """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(title) · hpod</title><link rel="stylesheet" href="\(DashboardAssets.stylesheetPath)">\(chartStyle)</head>
      <body data-events="\(events ?? "")" data-live-parts="\(liveParts.joined(separator: " "))" data-metric-parts="\(metricParts.joined(separator: " "))">
      <header><nav aria-label="breadcrumbs"><a class="brand" href="/">hpod</a>\(crumbs.map { " / " + $0 })</nav>\(live)</header>
      <main>\(content)</main>
      <footer>hpod dashboard · <a href="/api/v1/studies">JSON API</a></footer>
      \(chartScripts)<script src="\(DashboardAssets.scriptPath)"></script>
      </body></html>
      """
  }

  /// Every part, rendered concurrently; each part's error is kept for where the layout asks
  /// for it.
  func renderedParts() -> [String: Result<HTML, any Error>] {
    let results = Mutex<[String: Result<HTML, any Error>]>([:])
    // The parts read an immutable snapshot, its `Memo` (behind a mutex) and the store's pool,
    // which all take concurrent callers; their closures are not marked Sendable only because
    // every page's are built the same way.
    nonisolated(unsafe) let parts = parts
    DispatchQueue.concurrentPerform(iterations: parts.count) { index in
      let result = Result { try parts[index].render() }
      results.withLock { $0[parts[index].name] = result }
    }
    return results.withLock { $0 }
  }

  func part(_ name: String) throws -> HTML {
    guard let part = parts.first(where: { $0.name == name }) else { return .empty }
    return "<div data-part=\"\(name)\">\(try part.render())</div>"
  }
}

extension Page {
  /// A page with one block of content and no parts.
  static func simple(title: String, crumbs: [(String, String?)] = [], content: HTML) -> Page {
    Page(title: title, crumbs: crumbs, layout: { _ in content })
  }
}
