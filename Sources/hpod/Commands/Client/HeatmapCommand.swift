import ArgumentParser
import Foundation
import HPODAPI
import StudyAnalysis
import TrackingBridge
import TrialScheduler

#if canImport(Glibc)
  import Glibc
#endif

struct HeatmapCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "heatmap",
    abstract: "A metric over two parameters as a coloured terminal grid (★ the best cell, R the registered model).",
    discussion:
      "Reads the daemon (--server); when none answers, or with --local, the store of `hpod run` ($HPOD_HOME or --home)."
  )

  @Argument(help: "A study id (or, with --local, a study name).")
  var study: String

  @Option(help: "The parameter across.")
  var x: String

  @Option(help: "The parameter down.")
  var y: String

  @Option(help: "The metric (default: the study's objective).")
  var metric: String?

  @Option(help: "quick_test, full_training or all.")
  var tier = "all"

  @Flag(help: "Read the local store ($HPOD_HOME or --home) without asking a daemon first.")
  var local = false

  @OptionGroup var options: ClientOptions

  @OptionGroup var store: StoreOptions

  func run() async throws {
    let map: Heatmap
    if local {
      let database = try AppDatabase.open(at: store.hpodHome.databasePath)
      let record = try findStudy(study, in: database, home: store.hpodHome)
      do {
        map = try Heatmap.load(database: database, study: record, x: x, y: y, metric: metric, tier: tier)
      } catch let failure as Heatmap.Failure {
        throw CommandFailure("\(failure)")
      }
    } else {
      var query = URLComponents()
      query.queryItems =
        [.init(name: "x", value: x), .init(name: "y", value: y), .init(name: "tier", value: tier)]
        + (metric.map { [.init(name: "metric", value: $0)] } ?? [])
      let encoded = query.percentEncodedQuery
      map = try await options.read(home: store.hpodHome) { client in
        try API.decoder.decode(
          Heatmap.self, from: try await client.send("GET", "api/v1/studies/\(study)/heatmap", query: encoded))
      }
    }
    if options.json { return try options.printJSON(map) }
    print(HeatmapRenderer(map: map, colour: HeatmapRenderer.terminalWantsColour).render())
  }
}

/// Draws a heatmap as a table: rows are `y` bins, columns `x` bins, each cell the best value
/// (coloured from worst red to best green on a terminal), ★ on the best, R on the registered.
struct HeatmapRenderer {
  let map: Heatmap
  let colour: Bool

  /// Colour on a terminal, unless NO_COLOR is set to anything but empty (no-color.org).
  static var terminalWantsColour: Bool {
    isatty(STDOUT_FILENO) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
  }

  func render() -> String {
    let values = map.cells.map(\.value)
    let (low, high) = (values.min() ?? 0, values.max() ?? 1)
    let maximize = map.direction == "maximize"
    let width = max(10, (map.x.labels.map(\.count).max() ?? 0) + 1)
    let rowLabel = max(map.y.parameter.count, map.y.labels.map(\.count).max() ?? 0)
    var lines = ["\(map.metric) (\(map.direction), tier \(map.tier)) over \(map.x.parameter) × \(map.y.parameter)", ""]
    lines.append(
      "".padding(toLength: rowLabel, withPad: " ", startingAt: 0) + " │ "
        + map.x.labels.map { pad($0, width) }.joined())
    lines.append(
      String(repeating: "─", count: rowLabel + 1) + "┼" + String(repeating: "─", count: width * map.x.labels.count + 1))
    for (row, label) in map.y.labels.enumerated() {
      var line = label.padding(toLength: rowLabel, withPad: " ", startingAt: 0) + " │ "
      for column in map.x.labels.indices {
        guard let index = map.cells.firstIndex(where: { $0.x == column && $0.y == row }) else {
          line += pad("·", width)
          continue
        }
        let cell = map.cells[index]
        let marks = (index == map.best ? "★" : "") + (cell.registered ? "R" : "")
        let text = pad(ProgressView.format(cell.value) + marks, width)
        if colour {
          let t = high > low ? (cell.value - low) / (high - low) : 1
          let goodness = maximize ? t : 1 - t
          line += "\u{1B}[48;5;\(Self.colour(goodness))m\u{1B}[30m\(text)\u{1B}[0m"
        } else {
          line += text
        }
      }
      lines.append(line)
    }
    lines.append("")
    lines.append("· no completed trial; ★ best cell; R registered model. Each cell: the best of its trials.")
    return lines.joined(separator: "\n")
  }

  func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
  }

  /// A 256-colour index from red (0) through yellow to green (1).
  static func colour(_ goodness: Double) -> Int {
    let ramp = [196, 202, 208, 214, 220, 226, 190, 154, 118, 82, 46]
    return ramp[min(ramp.count - 1, max(0, Int((goodness * Double(ramp.count - 1)).rounded())))]
  }
}
