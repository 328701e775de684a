import Foundation
import HPODAPI
import Hummingbird
import NIOCore
import ServiceLifecycle
import TrialScheduler

/// Server-sent events: /api/v1/studies/{id}/events for one study, /api/v1/events for all.
struct EventsController {
  let service: StudyService
  let events: EventBus
  /// Events a client may fall behind by (see `EventSubscription`).
  var capacity = EventSubscription.capacity
  static let keepAlive: Duration = .seconds(15)

  func add(to group: RouterGroup<AppRequestContext>) {
    group.get("events") { _, _ in stream(studyId: nil) }
    group.get("studies/:id/events") { _, context in
      let id = try context.parameters.require("id", as: Int64.self)
      _ = try service.existing(id)
      let subscription = events.subscribe(studyId: id, capacity: capacity)
      // Looked up after subscribing: a study that ended before (or while) the reader came
      // still ends its stream, with its final state.
      let study = try service.existing(id)
      if study.state.isFinished {
        let summary = try? service.database.summary(
          studyId: id, higherIsBetter: study.direction == .maximize)
        subscription.deliver(.studyFinished(study, summary: summary), studyId: id)
      }
      return stream(subscription)
    }
  }

  func stream(studyId: Int64?) -> Response {
    stream(events.subscribe(studyId: studyId, capacity: capacity))
  }

  func stream(_ subscription: EventSubscription) -> Response {
    Response(
      status: .ok,
      headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
      body: .init { writer in
        defer { subscription.finish() }
        try await writer.write(ByteBuffer(string: ": connected\n\n"))
        // Events and keep-alives share the subscription's bounded queue, written by this one
        // loop: a client that stops reading holds the loop in `write` while the queue fills
        // and then drops (it gets `lagged` if it resumes). A keep-alive write that fails
        // notices a client gone. A daemon shutting down ends every stream at once.
        try await withGracefulShutdownHandler {
          try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
              while !Task.isCancelled {
                try await Task.sleep(for: Self.keepAlive)
                subscription.keepAlive()
              }
            }
            while let texts = await subscription.next() {
              var buffer = ByteBufferAllocator().buffer(capacity: texts.reduce(0) { $0 + $1.utf8.count })
              for text in texts { buffer.writeString(text) }
              try await writer.write(buffer)
            }
            group.cancelAll()
          }
        } onGracefulShutdown: {
          subscription.finish()
        }
        try await writer.finish(nil)
      })
  }
}
