import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StudyAnalysis
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// Headless Chromium (the Debian `chromium` package), driven from its command line.
enum Browser {
  static let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }
  static var available: Bool { binary != nil }

  /// Runs chromium on `url` with `mode` (`--dump-dom` or `--screenshot=PATH`). Pages keep an
  /// event stream open, which pauses Chromium's virtual time for good, so `--timeout` bounds
  /// the load instead of `--virtual-time-budget`; the inline script runs before the load ends.
  static func run(_ url: String, _ mode: String, size: String = "1400,1600") async throws -> String {
    let profile = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-chromium-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: profile) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary!)
    process.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
      "--window-size=\(size)", "--timeout=8000", mode, url,
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    let (_, data) = await waitForExit(process, reading: output)
    return String(decoding: data, as: UTF8.self)
  }

  struct PNGStats: Decodable {
    var width: Int
    var height: Int
    var colours: Int
    /// Share of pixels that differ from the most common colour (the background).
    var inked: Double
  }

  /// Decodes an 8-bit RGB(A) PNG (what Chromium writes) with Python's zlib and counts colours.
  static func stats(ofPNG path: String) async throws -> PNGStats {
    let script = #"""
      import json, struct, sys, zlib
      from collections import Counter
      data = open(sys.argv[1], 'rb').read()
      assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
      pos, idat = 8, b''
      while pos < len(data):
          n, kind = struct.unpack('>I4s', data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
          if kind == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
          elif kind == b'IDAT': idat += body
      bpp = {2: 3, 6: 4}[ctype]; assert depth == 8
      raw, stride, prev, counts = zlib.decompress(idat), w * bpp, bytearray(w * bpp), Counter()
      try:
          import numpy as np
      except ImportError:
          np = None
      for y in range(h):
          f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
          if np is not None and f in (0, 2):
              if f == 2: line = bytearray(((np.frombuffer(line, np.uint8).astype(np.uint16) + np.frombuffer(bytes(prev), np.uint8)) & 255).astype(np.uint8).tobytes())
              f = 0
          for i in range(stride if f else 0):
              a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
              if f == 1: line[i] = (line[i] + a) & 255
              elif f == 2: line[i] = (line[i] + b) & 255
              elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
              elif f == 4:
                  p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                  line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
          prev = line
          if y % 4 == 0: counts.update(bytes(line[x:x + 3]) for x in range(0, stride, bpp * 4))
      total = sum(counts.values())
      print(json.dumps({'width': w, 'height': h, 'colours': len(counts), 'inked': 1 - counts.most_common(1)[0][1] / total}))
      """#
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let (_, data) = await waitForExit(process, reading: output)
    return try JSONDecoder().decode(PNGStats.self, from: data)
  }

  /// Form controls and links of a DOM without an accessible name: no aria-label, no
  /// `<label for>`, no text.
  static func unnamedControls(_ dom: String) -> [String] {
    var problems: [String] = []
    let labelled = Set(matches(#"<label[^>]*\sfor="([^"]+)""#, in: dom).map { $0[1] })
    for match in matches(#"<(input|select|textarea)\b([^>]*)>"#, in: dom) {
      let attributes = match[2]
      if attributes.contains("type=\"hidden\"") { continue }
      if let label = attribute("aria-label", in: attributes), !label.isEmpty { continue }
      if let id = attribute("id", in: attributes), labelled.contains(id) { continue }
      problems.append(match[0])
    }
    for match in matches(#"<(button|a)\b([^>]*)>(.*?)</\1>"#, in: dom) {
      if let label = attribute("aria-label", in: match[2]), !label.isEmpty { continue }
      let text = match[3].replacingOccurrences(of: #"<[^>]+>"#, with: "", options: .regularExpression)
      if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems.append(match[0]) }
    }
    for match in matches(#"<svg\b([^>]*)>"#, in: dom) where attribute("aria-label", in: match[1]) == nil {
      problems.append(match[0])
    }
    return problems
  }

  static func attribute(_ name: String, in attributes: String) -> String? {
    matches(#"(?:^|\s)\#(name)="([^"]*)""#, in: attributes).first?[1]
  }

  static func matches(_ pattern: String, in text: String) -> [[String]] {
    guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else {
      return []
    }
    let string = text as NSString
    return regex.matches(in: text, range: NSRange(location: 0, length: string.length)).map { match in
      (0..<match.numberOfRanges).map {
        match.range(at: $0).location == NSNotFound ? "" : string.substring(with: match.range(at: $0))
      }
    }
  }
}

@Suite(
  "Dashboard in a browser", .serialized,
  .enabled(if: Browser.available, "chromium is not installed (apt-get install chromium): browser tests skipped"))
struct DashboardBrowserTests {
  static let spirals = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/spirals").path

  /// The spirals example at a tiny budget, submitted to the daemon as a user would.
  func runSpirals(_ client: any TestClientProtocol) async throws -> API.Study {
    var yaml = try String(contentsOfFile: "\(Self.spirals)/study.yaml", encoding: .utf8)
    for (old, new) in [
      ("max_trials: 16, parallelism: 2, startup_trials: 8", "max_trials: 6, parallelism: 2, startup_trials: 4"),
      ("full_training: {epochs: 30, data_fraction: 1.0}", "full_training: {epochs: 4, data_fraction: 0.5}"),
      ("min_value: 0.8}", "min_value: 0.3}"), ("\"val_accuracy >= 0.9\"", "\"val_accuracy >= 0.3\""),
    ] {
      #expect(yaml.contains(old), "examples/spirals/study.yaml no longer contains \(old)")
      yaml = yaml.replacingOccurrences(of: old, with: new)
    }
    let created = try await client.execute(
      uri: "/api/v1/studies", method: .post, headers: [HTTPField.Name("X-HPOD-Base-Dir")!: Self.spirals],
      body: ByteBuffer(string: yaml)
    ) { try $0.decode(API.Study.self) }
    let study = try await waitForStudy(client, created.id, seconds: 120)
    #expect(study.state == "completed", "\(study.stateReason ?? "")")
    return study
  }

  @Test("each page of the example study renders, with its heatmap, CSV export and named controls")
  func pagesInChromium() async throws {
    let daemon = try TestDaemon()
    let shots = "\(daemon.folder)/screenshots"
    try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
    try await daemon.test { client in
      let study = try await runSpirals(client)
      let base = "http://127.0.0.1:\(try #require(client.port))"
      let best = try #require(study.best)
      let trials = try await client.execute(uri: "/api/v1/studies/\(study.id)/trials", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      let pages = [
        ("studies", "/"), ("study", "/studies/\(study.id)"), ("run", "/studies/\(study.id)/runs/\(best.number)"),
        ("compare", "/studies/\(study.id)/compare?trials=0,1,\(best.number)"),
      ]
      var doms: [String: String] = [:]
      for (name, path) in pages {
        // The page renders: a real picture, not one colour
        let png = "\(shots)/\(name).png"
        _ = try await Browser.run(base + path, "--screenshot=\(png)")
        let size = (try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 20_000, "\(name): screenshot of \(size) bytes")
        let stats = try await Browser.stats(ofPNG: png)
        #expect(stats.width == 1400 && stats.height == 1600)
        #expect(stats.colours > 20 && stats.inked > 0.05, "\(name): \(stats)")
        // The inline script ran and every control has a name
        let dom = try await Browser.run(base + path, "--dump-dom")
        #expect(dom.contains("<main>"), "\(name): \(dom.prefix(300))")
        #expect(!dom.contains("live updates need JavaScript"), "\(name): the inline script did not run")
        #expect(Browser.unnamedControls(dom).isEmpty, "\(name): \(Browser.unnamedControls(dom))")
        doms[name] = dom
      }

      // The study page's heatmap, over the axes it picked, has the JSON heatmap's cells and star
      let dom = try #require(doms["study"])
      let x = try #require(
        Browser.matches(#"<select id="hm-x"[^>]*>.*?<option value="([^"]+)" selected"#, in: dom).first)[1]
      let y = try #require(
        Browser.matches(#"<select id="hm-y"[^>]*>.*?<option value="([^"]+)" selected"#, in: dom).first)[1]
      let heatmap = try await client.execute(uri: "/api/v1/studies/\(study.id)/heatmap?x=\(x)&y=\(y)", method: .get) {
        try $0.decode(Heatmap.self)
      }
      let cells = Browser.matches(
        #"<rect class="cell[^"]*" data-x="(\d+)" data-y="(\d+)" data-value="[^"]*" data-trial="(\d+)""#, in: dom)
      #expect(cells.count == heatmap.cells.count)
      #expect(
        Set(cells.map { "\($0[1]),\($0[2]),\($0[3])" }) == Set(heatmap.cells.map { "\($0.x),\($0.y),\($0.trial)" }))
      let bestCell = heatmap.cells[try #require(heatmap.best)]
      #expect(
        Browser.matches(#"<rect class="cell best[^"]*" data-x="(\d+)" data-y="(\d+)""#, in: dom).map { [$0[1], $0[2]] }
          == [["\(bestCell.x)", "\(bestCell.y)"]])
      let heatmapFigure = dom.components(separatedBy: "<figure class=\"chart heatmap\"").last ?? ""
      #expect(heatmapFigure.components(separatedBy: "</figure>")[0].components(separatedBy: ">★</text>").count == 2)
      // the registered model's cell is marked when the registered run is in the map
      if heatmap.cells.contains(where: \.registered) { #expect(dom.contains("class=\"registered-marker\"")) }

      // The CSV export the page links to parses with one row per trial
      let link = try #require(Browser.matches(#"<a href="([^"]*export\?format=csv)" download"#, in: dom).first)[1]
      let csv = try await client.execute(uri: link.replacingOccurrences(of: "&amp;", with: "&"), method: .get) {
        $0.text
      }
      let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
      #expect(rows.count == trials.count + 1)
      #expect(rows.first?.prefix(4) == ["number", "tier", "state", "value"])
      #expect(rows.dropFirst().allSatisfy { $0.count == rows[0].count })
      #expect(Set(rows.dropFirst().map { Int($0[0]) ?? -1 }) == Set(trials.map(\.number)))

      // The comparison recommends and the run page shows the history of every metric
      #expect(try #require(doms["compare"]).contains("class=\"recommendation\""))
      #expect(try #require(doms["run"]).contains("val_accuracy by step"))
      #expect(try #require(doms["studies"]).contains("spirals-mlp"))
    }
  }
}
