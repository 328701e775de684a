import Foundation
import Hummingbird
import NIOCore
import TrackingBridge
import TrialScheduler

/// /healthz, /readyz and /metrics (Prometheus text format).
struct OpsController {
  let service: StudyService
  let metrics: DaemonMetrics

  func add(to router: Router<AppRequestContext>) {
    router.get("healthz") { _, _ in "ok\n" }
    router.get("readyz") { _, _ -> Response in
      guard await service.isReady else {
        throw HTTPError(.serviceUnavailable, message: "resuming studies; not ready yet")
      }
      return Response(
        status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
    }
    router.get("metrics") { _, _ -> Response in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(string: try await metrics.render())))
    }
  }
}
