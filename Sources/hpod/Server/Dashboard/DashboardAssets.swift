import Foundation
import Hummingbird
import Logging
import NIOCore

/// The dashboard's stylesheet and scripts: files of Assets/, copied by SwiftPM into the
/// `hpod_hpod.resources` folder beside the hpod binary, read once and served at /assets/ with
/// their digest in the URL (so a browser may keep them, and a new hpod's are fetched anew).
/// Without them (a binary copied away from its resources) every page still works, unstyled
/// and without live updates, and the daemon says so once. The charts' library, uPlot 1.6.32
/// (MIT, Assets/vendor/ as released, its licence beside it), is served the same way.
enum DashboardAssets {
  struct Asset: Sendable {
    var name: String
    var contentType: String
    var bytes: ByteBuffer?
    var version: String
  }

  static let stylesheet = load("dashboard.css", contentType: "text/css; charset=utf-8")
  static let script = load("dashboard.js", contentType: "text/javascript; charset=utf-8")
  /// Our glue over uPlot: interactive charts, brushing on parallel coordinates.
  static let charts = load("charts.js", contentType: "text/javascript; charset=utf-8")
  static let chartLibrary = load("vendor/uPlot.iife.min.js", contentType: "text/javascript; charset=utf-8")
  static let chartLibraryStyle = load("vendor/uPlot.min.css", contentType: "text/css; charset=utf-8")
  static let chartLibraryLicense = load("vendor/uPlot.LICENSE", contentType: "text/plain; charset=utf-8")
  static let all = [stylesheet, script, charts, chartLibrary, chartLibraryStyle, chartLibraryLicense]

  static var stylesheetPath: String { path(stylesheet) }
  static var scriptPath: String { path(script) }
  static func path(_ asset: Asset) -> String { "/assets/\(asset.name)?v=\(asset.version)" }
  /// Paths the token middleware leaves open: the login page needs its stylesheet.
  static let openPaths: Set<String> = ["/assets/dashboard.css", "/assets/dashboard.js"]

  /// Where the resources are: beside the running binary (hpod, or the test runner in the same
  /// build folder), following a symlink to it.
  static func folder() -> URL? {
    let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    let directories = [executable, executable.resolvingSymlinksInPath()].map { $0.deletingLastPathComponent() }
    for directory in directories {
      let folder = directory.appendingPathComponent("hpod_hpod.resources/Assets")
      if FileManager.default.fileExists(atPath: folder.appendingPathComponent("dashboard.css").path) { return folder }
    }
    return nil
  }

  static func load(_ name: String, contentType: String) -> Asset {
    guard let folder = folder(),
      let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
    else {
      Logger(label: "hpod.dashboard").warning(
        "the dashboard's \(name) is missing (expected in hpod_hpod.resources/Assets beside the hpod binary): pages work without it; run hpod from its build folder or copy that folder beside it"
      )
      return Asset(name: name, contentType: contentType, bytes: nil, version: "missing")
    }
    // FNV-1a of the content: enough to tell two versions of one file apart.
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return Asset(
      name: name, contentType: contentType, bytes: ByteBuffer(bytes: data), version: String(hash, radix: 36))
  }

  static func add(to router: Router<AppRequestContext>) {
    for asset in all {
      router.get("assets/\(asset.name)") { _, _ -> Response in
        guard let bytes = asset.bytes else {
          throw HTTPError(.notFound, message: "this hpod has no \(asset.name) (see its log)")
        }
        return Response(
          status: .ok,
          headers: [
            .contentType: asset.contentType, .cacheControl: "public, max-age=86400",
            .init("X-Content-Type-Options")!: "nosniff",
          ], body: .init(byteBuffer: bytes))
      }
    }
  }
}
