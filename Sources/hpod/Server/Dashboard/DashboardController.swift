import Foundation
import HPODAPI
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingBridge
import TrialScheduler

/// The dashboard's pages: `/`, `/studies/{id}`, `/studies/{id}/runs/{number}` (with its
/// artifacts), `/studies/{id}/compare?trials=a,b`. Any page answers `?part=NAME` with one of
/// its parts alone, which is how the inline script refreshes them. Errors come back as pages.
struct DashboardController {
  let service: StudyService
  let snapshots: SnapshotCache

  func add(to router: Router<AppRequestContext>) {
    let group = router.group().add(middleware: HTMLErrorMiddleware())
    group.get("/", use: studies)
    group.get("studies/:id", use: study)
    group.get("studies/:id/runs/:number", use: run)
    group.get("studies/:id/runs/:number/artifacts/**", use: artifact)
    group.post("studies/:id/runs/:number/promote", use: promote)
    group.post("studies/:id/runs/:number/repeats", use: repeats)
    group.post("studies/:id/note", use: note)
    group.post("studies/:id/runs/:number/note", use: note)
    addPauseRoutes(to: group)
    group.get("studies/:id/compare", use: compare)
    group.get("login", use: loginForm)
    group.post("login", use: login)
  }

  @Sendable func studies(request: Request, context: AppRequestContext) async throws -> Response {
    let service = service
    return try await Self.rendered(request) {
      StudiesPage(studies: try service.database.studies().map { API.Study(try service.describe($0)) }).page()
    }
  }

  @Sendable func study(request: Request, context: AppRequestContext) async throws -> Response {
    let (service, snapshots, values) = (service, snapshots, DashboardQuery(request).values)
    let id = try context.parameters.require("id", as: Int64.self)
    return try await Self.rendered(request) {
      try StudyPage(
        snapshot: try snapshots.snapshot(of: id, service: service), query: values, database: service.database
      ).page()
    }
  }

  @Sendable func run(request: Request, context: AppRequestContext) async throws -> Response {
    let (service, snapshots, message) = (service, snapshots, DashboardQuery(request).values["message"])
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    return try await Self.rendered(request) {
      let snapshot = try snapshots.snapshot(of: id, service: service)
      guard let trial = snapshot.trial(number: number) else {
        throw HTTPError(.notFound, message: "study \(snapshot.id) has no trial \(number)")
      }
      return RunPage(snapshot: snapshot, trial: trial, database: service.database, message: message).page()
    }
  }

  @Sendable func compare(request: Request, context: AppRequestContext) async throws -> Response {
    let (service, snapshots, asked) = (service, snapshots, DashboardQuery(request).all("trials"))
    let id = try context.parameters.require("id", as: Int64.self)
    return try await Self.rendered(request) {
      let snapshot = try snapshots.snapshot(of: id, service: service)
      let runs = try ComparePage.runs(asked, in: snapshot)
      return ComparePage(
        snapshot: snapshot, runs: runs, comparison: try ComparePage.compare(runs, in: snapshot),
        database: service.database
      ).page()
    }
  }

  /// Builds and renders a page (or the part `?part=` asks for) on ComputeWork's threads: its
  /// store reads and analyses (a forest per objective for importance) do not hold the task
  /// pool that serves every other request.
  static func rendered(_ request: Request, _ page: @escaping @Sendable () throws -> Page) async throws -> Response {
    let started = ContinuousClock.now
    let part = DashboardQuery(request).values["part"]
    return timed(try await ComputeWork.run { try render(page(), part: part) }, started: started)
  }

  @Sendable func artifact(request: Request, context: AppRequestContext) async throws -> Response {
    let (_, trial) = try run(context)
    let relative = context.parameters.getCatchAll().joined(separator: "/")
    guard let file = Artifacts.resolve(trial, relative) else {
      throw HTTPError(.notFound, message: "trial \(trial.number) has no artifact \"\(relative)\"")
    }
    let body = try await FileIO().loadFile(path: file.path, context: context)
    let name = file.lastPathComponent.replacingOccurrences(of: "\"", with: "")
    return Response(
      status: .ok,
      headers: [
        .contentType: Self.contentType(of: file.pathExtension),
        .contentDisposition: "attachment; filename=\"\(name)\"",
        .init("X-Content-Type-Options")!: "nosniff",
      ], body: body)
  }

  /// The promote button without JavaScript: requests the full training, back to the run page.
  @Sendable func promote(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    return try await backToRun(id, number) { try await service.promote(id, trialNumber: number).message }
  }

  /// "Run more repeats" without JavaScript: two more repeats of the run's configuration.
  @Sendable func repeats(request: Request, context: AppRequestContext) async throws -> Response {
    let id = try context.parameters.require("id", as: Int64.self)
    let number = try context.parameters.require("number", as: Int.self)
    return try await backToRun(id, number) {
      try await service.requestRepeats(id, trialNumber: number, repeats: nil).message
    }
  }

  /// The note form of a study's or a run's page: sets the note, back to the page with what
  /// happened (a refused note is an error page that says why; nothing changed).
  @Sendable func note(request: Request, context: AppRequestContext) async throws -> Response {
    let (id, number) = try NotesController.target(context)
    var request = request
    let body = try await request.collectBody(limit: NotesController.maxBodyBytes)
    // A browser sends a textarea's line breaks as CR LF.
    let text = (DashboardAuth.formFields(String(buffer: body))["note"] ?? "").replacingOccurrences(
      of: "\r\n", with: "\n")
    let service = service
    let note = try await BlockingWork.run { try service.setNote(id, trialNumber: number, text: text) }
    guard let number else { return Response(status: .seeOther, headers: [.location: "/studies/\(id)"]) }
    return Response(
      status: .seeOther,
      headers: [
        .location: "/studies/\(id)/runs/\(number)"
          + HTML.query([("message", note == nil ? "note removed" : "note saved")])
      ])
  }

  /// Runs a request by hand and goes back to the run's page with what it answered.
  private func backToRun(_ id: Int64, _ number: Int, _ request: () async throws -> String) async throws -> Response {
    let message = try await request()
    return Response(
      status: .seeOther, headers: [.location: "/studies/\(id)/runs/\(number)" + HTML.query([("message", message)])])
  }

  @Sendable func loginForm(request: Request, context: AppRequestContext) async throws -> Response {
    let next = DashboardQuery(request).values["next"]
    return try Self.html(LoginPage(next: next, problem: nil).page().render(), status: .ok)
  }

  /// The login form's POST when no token is set (with a token the middleware answers it).
  @Sendable func login(request: Request, context: AppRequestContext) async throws -> Response {
    Response(status: .seeOther, headers: [.location: "/"])
  }

  // MARK: Helpers

  func snapshot(_ context: AppRequestContext) throws -> StudySnapshot {
    let id = try context.parameters.require("id", as: Int64.self)
    return try snapshots.snapshot(of: id, service: service)
  }

  func run(_ context: AppRequestContext) throws -> (StudySnapshot, TrialRecord) {
    let snapshot = try snapshot(context)
    let number = try context.parameters.require("number", as: Int.self)
    guard let trial = snapshot.trial(number: number) else {
      throw HTTPError(.notFound, message: "study \(snapshot.id) has no trial \(number)")
    }
    return (snapshot, trial)
  }

  /// The page, or the one part of it a live refresh asks for (`?part=`).
  static func render(_ page: Page, part name: String?) throws -> HTML {
    guard let name else { return try page.render() }
    guard page.parts.contains(where: { $0.name == name }) else {
      throw HTTPError(
        .badRequest,
        message: "this page has no part \"\(name)\"; parts: \(page.parts.map(\.name).joined(separator: ", "))")
    }
    return try page.part(name)
  }

  /// A page with how long it took the server (`Server-Timing`).
  static func timed(_ html: HTML, started: ContinuousClock.Instant) -> Response {
    var response = Self.html(html, status: .ok)
    let elapsed = ContinuousClock.now - started
    let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    response.headers[.init("Server-Timing")!] = String(format: "render;dur=%.2f", milliseconds)
    return response
  }

  static func html(_ html: HTML, status: HTTPResponse.Status) -> Response {
    Response(
      status: status,
      headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
      body: .init(byteBuffer: ByteBuffer(string: html.text)))
  }

  static func contentType(of pathExtension: String) -> String {
    switch pathExtension.lowercased() {
    case "json": "application/json"
    case "txt", "log", "md", "yaml", "yml": "text/plain; charset=utf-8"
    case "csv": "text/csv; charset=utf-8"
    case "png": "image/png"
    case "jpg", "jpeg": "image/jpeg"
    case "svg": "image/svg+xml"
    default: "application/octet-stream"
    }
  }
}

/// A request's query as a browser sends it: `+` is a space, `%XX` decoded, a key may repeat.
struct DashboardQuery {
  var pairs: [(String, String)] = []

  init(_ request: Request) {
    for item in (request.uri.query ?? "").split(separator: "&") {
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let decode = { (text: Substring) in
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
      }
      pairs.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
    }
  }

  /// The last value of each key.
  var values: [String: String] { Dictionary(pairs, uniquingKeysWith: { _, last in last }) }

  func all(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }
}

/// Errors on dashboard routes come back as a page that says what went wrong.
struct HTMLErrorMiddleware: RouterMiddleware {
  typealias Context = AppRequestContext

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    do {
      return try await next(request, context)
    } catch let error as HTTPError {
      return Self.page(status: error.status, message: error.body ?? error.status.reasonPhrase)
    } catch let error as ServiceError {
      let http = error.http
      return Self.page(status: http.status, message: http.body ?? error.description)
    } catch {
      context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
      return Self.page(status: .internalServerError, message: "internal error: \(error)")
    }
  }

  /// An error page; `back`: the page the request came from (its path and the link's text).
  static func page(status: HTTPResponse.Status, message: String, back: (String, String)? = nil) -> Response {
    let (link, label) = back ?? ("/", "Back to the studies")
    let page = Page.simple(
      title: "\(status.code) \(status.reasonPhrase)", crumbs: [("studies", "/"), ("error", nil)],
      content: """
        <h1>\(status.code) \(status.reasonPhrase)</h1><p class="error" role="alert">\(message)</p>
        <p><a href="\(link)">\(label)</a></p>
        """)
    return DashboardController.html((try? page.render()) ?? HTML(stringLiteral: message), status: status)
  }
}
