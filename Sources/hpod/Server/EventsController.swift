import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
import TrialScheduler

/// Server-sent events: /api/v1/studies/{id}/events for one study, /api/v1/events for all.
struct EventsController {
  let service: StudyService
  static let keepAlive: Duration = .seconds(15)

  func add(to group: RouterGroup<AppRequestContext>) {
    group.get("events") { _, _ in stream(studyId: nil) }
    group.get("studies/:id/events") { _, context in
      let id = try context.parameters.require("id", as: Int64.self)
      return try await mapped {
        _ = try await service.existing(id)
        return stream(studyId: id)
      }
    }
  }

  func stream(studyId: Int64?) -> Response {
    let events = service.events.subscribe(studyId: studyId)
    return Response(
      status: .ok,
      headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
      body: .init { writer in
        try await writer.write(ByteBuffer(string: ": connected\n\n"))
        // One task forwards events; the other sends keep-alives, which also notices a client
        // that went away (the write fails) and ends the stream. A daemon shutting down ends
        // every stream at once, so it never waits on idle watchers.
        let (lines, sink) = AsyncStream.makeStream(of: String.self)
        try await withGracefulShutdownHandler {
          try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
              for await event in events { sink.yield(event.serverSentEvent) }
              sink.finish()
            }
            group.addTask {
              while !Task.isCancelled {
                try await Task.sleep(for: Self.keepAlive)
                sink.yield(": keep-alive\n\n")
              }
            }
            for await line in lines { try await writer.write(ByteBuffer(string: line)) }
            group.cancelAll()
          }
        } onGracefulShutdown: {
          sink.finish()
        }
        try await writer.finish(nil)
      })
  }
}
