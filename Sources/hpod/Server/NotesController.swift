import Foundation
import HPODAPI
import Hummingbird
import TrialScheduler

/// Notes on a study and on its runs: `GET` and `PUT /api/v1/studies/{id}/note` and
/// `/api/v1/studies/{id}/trials/{number}/note`, the body `{"note": "…"}` (empty: removed).
struct NotesController {
  let service: StudyService

  /// A request body holds one note (at most `Note.maxLength` characters, each at most
  /// 12 bytes once percent-encoded by a form) and little else.
  static let maxBodyBytes = 128 * 1024

  /// What a PUT sends.
  struct Change: Decodable {
    var note: String
  }

  func add(to group: RouterGroup<AppRequestContext>) {
    group.get("studies/:id/note", use: get)
    group.put("studies/:id/note", use: put)
    group.get("studies/:id/trials/:number/note", use: get)
    group.put("studies/:id/trials/:number/note", use: put)
  }

  @Sendable func get(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Note> {
    let (id, number) = try Self.target(context)
    let service = service
    return JSONBody(
      API.Note(study: id, trial: number, note: try await BlockingWork.run { try service.note(id, trialNumber: number) })
    )
  }

  @Sendable func put(request: Request, context: AppRequestContext) async throws -> JSONBody<API.Note> {
    let (id, number) = try Self.target(context)
    var request = request
    let body = try await request.collectBody(limit: Self.maxBodyBytes)
    let change = try API.decoder.decode(Change.self, from: Data(buffer: body))
    let service = service
    let note = try await BlockingWork.run { try service.setNote(id, trialNumber: number, text: change.note) }
    return JSONBody(API.Note(study: id, trial: number, note: note))
  }

  static func target(_ context: AppRequestContext) throws -> (Int64, Int?) {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.get("number").map { text in
      guard let number = Int(text) else {
        throw HTTPError(.badRequest, message: "a trial number is a whole number, found \"\(text)\"")
      }
      return number
    }
    return (id, number)
  }
}
