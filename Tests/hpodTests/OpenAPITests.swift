import Foundation
import HPODAPI
import Hummingbird
import Logging
import Testing
import Yams

@testable import hpod

/// docs/openapi.yaml describes exactly the API the server routes.
@Suite("OpenAPI document")
struct OpenAPITests {
  static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml").path

  @Test("every hpod API and operations route is in docs/openapi.yaml, and every documented operation is routed")
  func documentMatchesRoutes() throws {
    let daemon = try TestDaemon()
    let router = buildRouter(service: daemon.service, events: daemon.events, settings: ServerSettings())
    // `/api/v1/studies/:id` is `/api/v1/studies/{id}` in OpenAPI.
    let routed = Set(
      router.routes.map { route -> String in
        let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : $0 }
        return "\(route.method.rawValue) /\(path.joined(separator: "/"))"
      }
      .filter {
        $0.contains(" /api/") || $0.hasSuffix(" /healthz") || $0.hasSuffix(" /readyz") || $0.hasSuffix(" /metrics")
      }
      // MLflow's own REST API (its spec is MLflow's; the routes are listed in docs/API.md).
      .filter { !$0.contains(" /api/2.0/") }
    )
    let yaml = try String(contentsOfFile: Self.document, encoding: .utf8)
    let root = try #require(try Yams.load(yaml: yaml) as? [String: Any])
    let paths = try #require(root["paths"] as? [String: [String: Any]])
    let documented = Set(
      paths.flatMap { path, operations in
        operations.keys.filter { ["get", "post", "put", "delete", "patch"].contains($0) }.map {
          "\($0.uppercased()) \(path)"
        }
      })
    #expect(routed.count > 20, "\(routed)")
    #expect(
      routed.subtracting(documented).isEmpty, "routed but not documented: \(routed.subtracting(documented).sorted())")
    #expect(
      documented.subtracting(routed).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
  }
}
