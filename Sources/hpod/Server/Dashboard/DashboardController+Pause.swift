import Foundation
import HTTPTypes
import Hummingbird
import TrackingBridge
import TrialScheduler

/// The pause and resume buttons of the study and run pages, without JavaScript: each posts
/// here, does what `POST /api/v1/studies/{id}/pause|resume` (or the trial's) does, and goes
/// back to the page with what happened. A refused request is a page that says why and links
/// back; it changed nothing. (A session cookie is refused from other sites by
/// `BearerTokenMiddleware.refuseCrossSite`, as for every other form of the dashboard.)
extension DashboardController {
  func addPauseRoutes(to group: RouterGroup<AppRequestContext>) {
    group.post("studies/:id/pause", use: pauseStudy)
    group.post("studies/:id/resume", use: resumeStudy)
    group.post("studies/:id/runs/:number/pause", use: pauseTrial)
    group.post("studies/:id/runs/:number/resume", use: resumeTrial)
  }

  @Sendable func pauseStudy(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let service = service
    return try await Self.answered(back: "/studies/\(id)", "study \(id)") {
      let study = try await BlockingWork.run { try service.existing(id) }
      guard study.state == .running else {
        throw ServiceError.conflict(
          "study \(id) is \(study.state.rawValue): only a running study can be paused; nothing was changed")
      }
      let paused = try await service.pause(id)
      return paused.state == .interrupted
        ? "study \(id) is paused: its trials stopped and nothing runs until it is resumed, which continues them from their last checkpoints"
        : "study \(id) is pausing: its running trials are stopping; once they have, nothing runs until it is resumed"
    }
  }

  @Sendable func resumeStudy(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let service = service
    return try await Self.answered(back: "/studies/\(id)", "study \(id)") {
      let study = try await BlockingWork.run { try service.existing(id) }
      guard study.state != .running else {
        throw ServiceError.conflict("study \(id) is running already: there is nothing to resume; nothing was changed")
      }
      _ = try await service.resume(id)
      return "study \(id) runs again: its stopped trials continue from their last checkpoints"
    }
  }

  @Sendable func pauseTrial(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    return try await Self.answered(back: "/studies/\(id)/runs/\(number)", "trial \(number)") {
      try await service.pauseTrial(id, number: number).message
    }
  }

  @Sendable func resumeTrial(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    return try await Self.answered(back: "/studies/\(id)/runs/\(number)", "trial \(number)") {
      try await service.resumeTrial(id, number: number).message
    }
  }

  /// Back to `page` with what `act` answered; a refusal (the service's error) is a page that
  /// says why, with its status, and a link back to `page`.
  static func answered(back page: String, _ label: String, _ act: () async throws -> String) async throws -> Response {
    do {
      let message = try await act()
      return Response(status: .seeOther, headers: [.location: page + HTML.query([("message", message)])])
    } catch let error as ServiceError {
      let http = error.http
      return HTMLErrorMiddleware.page(
        status: http.status, message: http.body ?? error.description, back: (page, "Back to \(label)"))
    }
  }
}
