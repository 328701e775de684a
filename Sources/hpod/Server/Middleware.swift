import Foundation
import HPODAPI
import HTTPTypes
import Hummingbird

/// Every error leaves as JSON with a message: routes that do not exist, wrong methods,
/// malformed bodies, and anything unexpected (logged, never shown raw).
struct JSONErrorMiddleware: RouterMiddleware {
  typealias Context = AppRequestContext

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    do {
      return try await next(request, context)
    } catch let error as HTTPError where error.body == nil {
      let message =
        error.status == .notFound
        ? "no such endpoint: \(request.method) \(request.uri.path); see docs/API.md for the API"
        : error.status.reasonPhrase
      throw HTTPError(error.status, message: message)
    } catch let error as any HTTPResponseError {
      throw error
    } catch let error as DecodingError {
      throw HTTPError(.badRequest, message: "malformed JSON body: \(Self.describe(error))")
    } catch {
      context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
      throw HTTPError(.internalServerError, message: "internal error: \(error)")
    }
  }

  static func describe(_ error: DecodingError) -> String {
    switch error {
    case .dataCorrupted(let context): context.debugDescription
    case .keyNotFound(let key, _): "missing key '\(key.stringValue)'"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
    @unknown default: "\(error)"
    }
  }
}

/// `Authorization: Bearer <token>` on every path but the open ones (health checks). Browsers
/// log in once (the form at `/login`, or `?token=` on any page) and then send the session
/// cookie, which counts as the token; a page without either gets the login form.
struct BearerTokenMiddleware: RouterMiddleware {
  typealias Context = AppRequestContext
  let token: String
  let open: Set<String>

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    let path = request.uri.path
    guard !open.contains(path) else { return try await next(request, context) }
    let header = request.headers[.authorization] ?? ""
    if DashboardAuth.matches(header, "Bearer \(token)") { return try await next(request, context) }
    if let session = request.cookies[DashboardAuth.cookie]?.value,
      DashboardAuth.matches(session, DashboardAuth.cookieValue(token))
    {
      try refuseCrossSite(request)
      return try await next(request, context)
    }
    if path == "/login", request.method == .post { return try await login(request) }
    if DashboardAuth.isPage(path), request.method == .get {
      return try loginByQuery(request)
    }
    throw HTTPError(
      .unauthorized, headers: [.wwwAuthenticate: "Bearer"],
      message: header.isEmpty
        ? "this hpod needs a token: pass --token or set HPOD_TOKEN" : "the token does not match this hpod's")
  }

  /// A cookie rides along on any request the browser makes, so a change made with it must
  /// come from the dashboard's own pages (SameSite=Strict already keeps other sites out).
  func refuseCrossSite(_ request: Request) throws {
    guard request.method != .get, request.method != .head else { return }
    if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" {
      throw HTTPError(.forbidden, message: "cross-site requests cannot use the dashboard's session")
    }
    if let origin = request.headers[HTTPField.Name("Origin")!], let host = request.head.authority,
      origin != "http://\(host)", origin != "https://\(host)"
    {
      throw HTTPError(.forbidden, message: "requests from \(origin) cannot use the dashboard's session")
    }
  }

  /// `?token=T` on a page: the right token sets the session cookie and reloads the page
  /// without it in the address; anything else gets the login form.
  func loginByQuery(_ request: Request) throws -> Response {
    let query = DashboardQuery(request)
    let here = request.uri.path
    guard let given = query.values["token"] else {
      return DashboardAuth.loginPage(next: request.uri.description, problem: nil, status: .unauthorized)
    }
    let rest = query.pairs.filter { $0.0 != "token" }
    let target = here + HTML.query(rest.map { ($0.0, Optional($0.1)) })
    guard DashboardAuth.matches(given, token) else {
      return DashboardAuth.loginPage(
        next: target, problem: "That token does not match this hpod's.", status: .unauthorized)
    }
    return Response(
      status: .seeOther,
      headers: [.location: DashboardAuth.safeNext(target), .setCookie: DashboardAuth.sessionCookie(token)])
  }

  func login(_ request: Request) async throws -> Response {
    var request = request
    let body = try await request.collectBody(limit: 16 * 1024)
    let fields = DashboardAuth.formFields(String(buffer: body))
    guard let given = fields["token"], DashboardAuth.matches(given, token) else {
      return DashboardAuth.loginPage(
        next: fields["next"], problem: "That token does not match this hpod's.", status: .unauthorized)
    }
    return Response(
      status: .seeOther,
      headers: [.location: DashboardAuth.safeNext(fields["next"]), .setCookie: DashboardAuth.sessionCookie(token)])
  }
}
