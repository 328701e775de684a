import Foundation
import HPODAPI
import HummingbirdTesting
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// A finished study of many parameters and metrics with long names, written through
/// `AppDatabase`: its runs table is wider than a 1,400 px window.
enum WideStudyFixture {
  static let parameters = (0..<9).map { "parameter_with_a_long_name_\($0)" }
  static let metrics = ["score"] + (0..<8).map { "metric_with_a_long_name_\($0)" }

  static func write(_ database: AppDatabase, count: Int = 30) throws -> Int64 {
    let space = parameters.map { "  \($0): {type: float, min: 0.0001, max: 1, log: true}" }.joined(separator: "\n")
    let yaml = """
      name: wide
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: \(count)}
      parameters:
      \(space)
      trial: {command: [sh, -c, "true"]}
      """
    let study = try database.createStudy(
      StudyRecord(
        name: "wide", specYAML: yaml, specPath: nil, specHash: "wide", objectiveMetric: "score",
        direction: .maximize))
    let start = Date().addingTimeInterval(-Double(count) * 10)
    for index in 0..<count {
      let values = parameters.indices.map { pow(10, -4 * Double((index * 7 + $0 * 3) % 11) / 10) }
      let json = "{" + zip(parameters, values).map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}"
      let trial = try database.createTrial(
        studyId: study.id!, tier: .quickTest,
        params: zip(parameters, values).map { (name: $0, value: "\($1)", numeric: $1) }, paramsJSON: json,
        sourceTrialId: nil)
      let began = start.addingTimeInterval(Double(index) * 10)
      _ = try database.startTrial(trial, handle: #"{"external":{}}"#, runDirectory: "", at: began)
      let stamp = Int64(began.timeIntervalSince1970 * 1000)
      try database.appendMetrics(
        metrics.enumerated().map { k, name in
          MetricPoint(trialId: trial.id!, name: name, step: 1, value: Double(index) / 100 + Double(k), timestamp: stamp)
        })
      _ = try database.finishTrial(
        id: trial.id!, .init(state: .completed, value: Double(index) / 100, exitCode: 0, reason: nil),
        at: began.addingTimeInterval(5))
    }
    try database.setStudyState(id: study.id!, .completed)
    return study.id!
  }
}

/// The dashboard's interactions in Chromium, driven through its DevTools protocol as a user's
/// mouse would: hover, click, drag.
extension DashboardBrowserTests {
  /// Where screenshots go: HPOD_DASHBOARD_SCREENS, else the daemon's folder.
  static func screens(_ daemon: TestDaemon) throws -> String {
    let folder = ProcessInfo.processInfo.environment["HPOD_DASHBOARD_SCREENS"] ?? "\(daemon.folder)/screens"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  /// Runs `body` with a tab of a fresh headless Chromium, closed afterwards.
  func withTab(width: Int = 1400, height: Int = 1000, _ body: (ChromiumDriver.Tab) async throws -> Void)
    async throws
  {
    let browser = try ChromiumDriver(binary: try #require(Browser.binary))
    do {
      try await body(try await browser.open(width: width, height: height))
    } catch {
      await browser.quit()
      throw error
    }
    await browser.quit()
  }

  @Test(
    "the history chart is interactive: hover names the trial and its parameters, a click opens its run, drag zooms, shift-drag pans, ctrl and the wheel zoom, and a double click resets",
    .timeLimit(.minutes(2)))
  func historyHoverClickZoom() async throws {
    let daemon = try TestDaemon()
    let id = try CurvesFixture.write(daemon.service.database, count: 500)
    let shots = try Self.screens(daemon)
    try await daemon.test { client in
      let base = "http://127.0.0.1:\(try #require(client.port))"
      try await withTab { tab in
        try await tab.navigate("\(base)/studies/\(id)")
        let chart = "document.querySelector('[data-part=curve] figure').uplot"
        try await tab.waitFor("!!(\(chart))")
        try await tab.screenshot("\(shots)/study.png")
        // A quick test in the middle of the chart, where the page has it on screen
        let target = try #require(
          try await tab.evaluate(
            """
            (() => { const u = \(chart); u.root.scrollIntoView({block: 'center'});
              const xs = u.data[0], ys = u.data[1]; let i = Math.floor(xs.length / 2);
              while (ys[i] == null) i++;
              const r = u.over.getBoundingClientRect();
              return [xs[i], r.left + u.valToPos(xs[i], 'x'), r.top + u.valToPos(ys[i], 'y')]; })()
            """) as? [Double])
        let trial = Int(target[0])
        try await tab.mouse("mouseMoved", x: target[1], y: target[2])
        let tip = "document.querySelector('[data-part=curve] .chart-tip')"
        try await tab.waitFor("!\(tip).hidden && \(tip).querySelector('strong').textContent === 'trial \(trial)'")
        // the tooltip gives the value and the trial's parameters
        let text = try #require(try await tab.evaluate("\(tip).textContent") as? String)
        #expect(text.contains("score") && text.contains("quick_test · completed"), "\(text)")
        #expect(
          try await tab.evaluate("[...\(tip).querySelectorAll('dt')].map(e => e.textContent)") as? [String] == ["x"])
        try await tab.screenshot("\(shots)/history-hover.png", of: "[data-part=curve] figure")

        // Shift and drag pans: dragging left by a fifth of the width shows later trials, the
        // width kept; ctrl and the wheel zoom in around the pointer
        let box = try #require(
          try await tab.evaluate(
            "(() => { const r = \(chart).over.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
            as? [Double])
        let full = try #require(try await tab.evaluate("[\(chart).scales.x.min, \(chart).scales.x.max]") as? [Double])
        // (uPlot's page now and then misses a whole gesture of DevTools events, as the zoom
        // below notes: up to three gestures, each moving the view by a fifth)
        let shift = (full[1] - full[0]) * 0.2
        var panned = false
        for _ in 1...3 where !panned {
          try await tab.drag(
            from: (box[0] + box[2] * 0.6, box[1] + box[3] * 0.5), to: (box[0] + box[2] * 0.4, box[1] + box[3] * 0.5),
            modifiers: 8)
          panned =
            (try? await tab.waitFor(
              "\(chart).scales.x.min > \(full[0] + shift * 0.8) && Math.abs((\(chart).scales.x.max - \(chart).scales.x.min) - \(full[1] - full[0])) < \(shift * 0.1)",
              seconds: 2)) != nil
        }
        #expect(panned, "three shift-drags did not move the view with its width kept")
        try await tab.mouse("mouseWheel", x: box[0] + box[2] / 2, y: box[1] + box[3] / 2, modifiers: 2, wheelY: -100)
        try await tab.waitFor(
          "\(chart).scales.x.max - \(chart).scales.x.min < \((full[1] - full[0]) * 0.9)", seconds: 5)
        // (back to every trial for what follows)
        try await tab.evaluate("\(chart).setData(\(chart).data, true)")

        // Dragging zooms into the dragged stretch; a double click shows every trial again
        // (In headless Chromium uPlot now and then misses a whole gesture of DevTools mouse
        // events, the events all delivered; a second gesture zooms. Cause not found: the
        // test allows three gestures.)
        var zoomed = false
        for _ in 1...3 where !zoomed {
          try await tab.drag(
            from: (box[0] + box[2] * 0.3, box[1] + box[3] * 0.1), to: (box[0] + box[2] * 0.6, box[1] + box[3] * 0.9))
          zoomed =
            (try? await tab.waitFor(
              "\(chart).scales.x.max - \(chart).scales.x.min < \((full[1] - full[0]) * 0.5)", seconds: 2)) != nil
        }
        #expect(zoomed, "three drags across the history chart did not zoom")
        let (cx, cy) = (box[0] + box[2] / 2, box[1] + box[3] / 2)
        try await tab.mouse("mouseMoved", x: cx, y: cy)
        for clicks in 1...2 {
          try await tab.mouse("mousePressed", x: cx, y: cy, pressed: true, clicks: clicks)
          try await tab.mouse("mouseReleased", x: cx, y: cy, clicks: clicks)
        }
        try await tab.waitFor("\(chart).scales.x.min <= \(full[0]) && \(chart).scales.x.max >= \(full[1])")
        // (a double click on a point resets the zoom and opens nothing)
        try await pause(0.5)
        #expect(try await tab.evaluate("location.pathname") as? String == "/studies/\(id)")

        // A click on a point opens that trial's run page
        try await tab.evaluate("\(chart).root.scrollIntoView({block: 'center'})")
        let again = try #require(
          try await tab.evaluate(
            "(() => { const u = \(chart), r = u.over.getBoundingClientRect(), i = u.data[0].indexOf(\(trial)); return [r.left + u.valToPos(u.data[0][i], 'x'), r.top + u.valToPos(u.data[1][i], 'y')]; })()"
          ) as? [Double])
        try await tab.mouse("mouseMoved", x: again[0], y: again[1])
        try await tab.waitFor("\(tip).querySelector('strong').textContent === 'trial \(trial)'")
        try await tab.mouse("mousePressed", x: again[0], y: again[1], pressed: true)
        try await tab.mouse("mouseReleased", x: again[0], y: again[1])
        try await tab.waitFor(
          "location.pathname === '/studies/\(id)/runs/\(trial)' && document.readyState === 'complete'")
        let heading = try await tab.evaluate("document.querySelector('h1').textContent") as? String
        #expect(heading?.hasPrefix("Trial \(trial) ") == true, "\(heading ?? "no heading")")
        try await tab.screenshot("\(shots)/run.png")
      }
    }
  }

  @Test("the curves chart draws every trial of a 500-trial study, in under a second", .timeLimit(.minutes(2)))
  func curvesDrawEveryTrial() async throws {
    let daemon = try TestDaemon()
    let id = try CurvesFixture.write(daemon.service.database, count: 500)
    let shots = try Self.screens(daemon)
    try await daemon.test { client in
      let base = "http://127.0.0.1:\(try #require(client.port))"
      try await withTab { tab in
        try await tab.navigate("\(base)/studies/\(id)")
        let chart = "document.querySelector('[data-part=curves] figure').uplot"
        try await tab.waitFor("!!(\(chart)) && !!document.querySelector('[data-part=curves] figure').dataset.drawMs")
        // One uPlot series per trial, each with its points: 500 quick tests and the full training
        let drawn = try #require(
          try await tab.evaluate(
            "\(chart).series.filter((s, i) => i > 0 && s.label.startsWith('trial ') && \(chart).data[i].some(v => v != null)).length"
          ) as? Int)
        #expect(drawn == 501)
        let pruned = try await tab.evaluate(
          "\(chart).series.filter(s => / · pruned at step 3 /.test(s.label || '')).length")
        #expect(pruned as? Int == 100)
        let drawText = try await tab.evaluate("document.querySelector('[data-part=curves] figure').dataset.drawMs")
        let milliseconds = try #require((drawText as? String).flatMap(Double.init))
        #expect(milliseconds < 1000, "the curves chart took \(milliseconds) ms to draw")
        try await tab.screenshot("\(shots)/curves.png", of: "[data-part=curves]")
        try await tab.screenshot("\(shots)/slices.png", of: "[data-part=slices]")
      }
    }
  }

  @Test(
    "brushing a range on the parallel coordinates keeps the runs table to the trials inside it",
    .timeLimit(.minutes(2)))
  func brushingFiltersTheTable() async throws {
    let daemon = try TestDaemon()
    let id = try CurvesFixture.write(daemon.service.database, count: 200)
    let shots = try Self.screens(daemon)
    try await daemon.test { client in
      let base = "http://127.0.0.1:\(try #require(client.port))"
      let trials = try await client.execute(uri: "/api/v1/studies/\(id)/trials", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      try await withTab { tab in
        try await tab.navigate("\(base)/studies/\(id)")
        let axis = "document.querySelector('figure.parallel line.pc-axis[data-name=x]')"
        try await tab.waitFor("!!\(axis) && document.querySelector('figure.parallel').dataset.brushable")
        let ends = try #require(
          try await tab.evaluate(
            """
            (() => { const a = \(axis); a.scrollIntoView({block: 'center'}); const m = a.getScreenCTM();
              const p = y => { const q = a.ownerSVGElement.createSVGPoint(); q.x = +a.getAttribute('x1'); q.y = y; return q.matrixTransform(m); };
              const top = p(+a.dataset.top), bottom = p(+a.dataset.bottom); return [top.x, top.y, bottom.y]; })()
            """) as? [Double])
        let (x, top, bottom) = (ends[0], ends[1], ends[2])
        // From 70% of the axis down to 40%: x from about 0.4 to 0.7
        try await tab.drag(from: (x, bottom - (bottom - top) * 0.7), to: (x, bottom - (bottom - top) * 0.4))
        try await tab.waitFor("(document.querySelector('table.runs caption') || {}).textContent.includes('brushed')")
        let brush = try #require(try await tab.evaluate("new URL(location.href).searchParams.get('brush')") as? String)
        let range = brush.split(separator: ":").dropFirst().compactMap { Double($0) }
        #expect(brush.hasPrefix("x:") && range.count == 2, "\(brush)")
        let (low, high) = (try #require(range.first), try #require(range.last))
        #expect(abs(low - 0.4) < 0.02 && abs(high - 0.7) < 0.02, "\(brush)")
        // The table holds exactly the trials whose x lies in the range, and its rows say so
        let inside = trials.filter {
          ($0.params["x"]?.numericValue).map { $0 >= low - 1e-3 && $0 <= high + 1e-3 } ?? false
        }
        let rows = try #require(try await tab.evaluate("+document.querySelector('table.runs').dataset.rows") as? Int)
        #expect(rows == inside.count && rows > 0 && rows < trials.count, "\(rows) rows, \(inside.count) inside")
        let shown = try #require(
          try await tab.evaluate(
            """
            (() => { const t = document.querySelector('table.runs'), h = [...t.tHead.rows[0].cells].findIndex(c => c.textContent.trim() === 'param.x');
              return [...t.tBodies[0].rows].map(r => +r.cells[h].textContent); })()
            """) as? [Double])
        #expect(!shown.isEmpty && shown.allSatisfy { $0 >= low - 1e-3 && $0 <= high + 1e-3 }, "\(shown)")
        // The lines outside the range are dimmed
        let dimmed = try #require(
          try await tab.evaluate("document.querySelectorAll('figure.parallel path.pc-out').length") as? Int)
        #expect(dimmed > 0)
        try await tab.screenshot("\(shots)/parallel-brushed.png", of: "section[aria-labelledby=parallel-title]")
        // A click on the axis clears its range: the whole table again
        try await tab.drag(from: (x, (top + bottom) / 2), to: (x, (top + bottom) / 2), steps: 1)
        try await tab.waitFor("+document.querySelector('table.runs').dataset.rows === \(trials.count)")
        #expect(try await tab.evaluate("new URL(location.href).searchParams.get('brush') === null") as? Bool == true)
      }
    }
  }

  @Test(
    "at 1,400 px the runs table scrolls inside its section to every metric column, its number column staying",
    .timeLimit(.minutes(2)))
  func runsTableAt1400() async throws {
    let daemon = try TestDaemon()
    let id = try WideStudyFixture.write(daemon.service.database)
    let shots = try Self.screens(daemon)
    try await daemon.test { client in
      let base = "http://127.0.0.1:\(try #require(client.port))"
      try await withTab(width: 1400, height: 900) { tab in
        try await tab.navigate("\(base)/studies/\(id)")
        let scroller = "document.querySelector('.runs-scroll')"
        try await tab.waitFor("!!\(scroller)")
        // The page itself does not overflow the window; the table scrolls inside its box
        let overflowing = try await tab.evaluate(
          "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 1400 && !e.closest('.runs-scroll')).slice(0, 6).map(e => e.tagName + '.' + e.className.baseVal + e.className + ' ' + e.getBoundingClientRect().right)"
        )
        #expect(
          try await tab.evaluate("document.documentElement.scrollWidth") as? Int == 1400,
          "wider than the window: \(String(describing: overflowing))")
        let sizes = try #require(try await tab.evaluate("[\(scroller).scrollWidth, \(scroller).clientWidth]") as? [Int])
        #expect(sizes[0] > sizes[1] && sizes[1] <= 1400, "\(sizes)")
        let metricHeaders = WideStudyFixture.metrics.dropFirst().map { "metric.\($0)" }
        let visible = """
          (name) => { const s = \(scroller).getBoundingClientRect(), c = [...document.querySelectorAll('table.runs th')].find(h => h.textContent.trim() === name);
            if (!c) return 'missing'; const r = c.getBoundingClientRect(); return r.left >= s.left - 1 && r.right <= s.right + 1; }
          """
        try await tab.evaluate("\(scroller).scrollIntoView({block: 'start'})")
        try await tab.screenshot("\(shots)/runs-table.png", fullPage: false)
        // Scrolled to its end, every metric column that was off to the right is in view...
        try await tab.evaluate("\(scroller).scrollLeft = \(scroller).scrollWidth")
        try await tab.waitFor("\(scroller).scrollLeft > 0")
        for name in metricHeaders.suffix(4) {
          #expect(try await tab.evaluate("(\(visible))('\(name)')") as? Bool == true, "\(name) is not in view")
        }
        // ...and the trial number column stays at the left edge
        let sticky = try #require(
          try await tab.evaluate(
            "(() => { const s = \(scroller).getBoundingClientRect(), c = document.querySelector('table.runs tbody tr td:nth-child(2)').getBoundingClientRect(); return [s.left, c.left, c.right]; })()"
          ) as? [Double])
        #expect(sticky[1] >= sticky[0] - 1 && sticky[2] <= sticky[0] + 120, "\(sticky)")
        try await tab.screenshot("\(shots)/runs-table-scrolled.png", fullPage: false)
        try await tab.screenshot("\(shots)/contour.png", of: "section[aria-labelledby=heatmap-title]")
      }
    }
  }
}
