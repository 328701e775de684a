import Foundation
import HPODAPI

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
  /// Markup around the parts: what comes before each named part.
  var layout: (_ part: (String) throws -> HTML) throws -> HTML

  func render() throws -> HTML {
    let content = try layout { name in try part(name) }
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
