import Foundation
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

/// `Authorization: Bearer <token>` on every path but the open ones (health checks).
struct BearerTokenMiddleware: RouterMiddleware {
  typealias Context = AppRequestContext
  let token: String
  let open: Set<String>

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    guard !open.contains(request.uri.path) else { return try await next(request, context) }
    let header = request.headers[.authorization] ?? ""
    guard header == "Bearer \(token)" else {
      throw HTTPError(
        .unauthorized, headers: [.wwwAuthenticate: "Bearer"],
        message: header.isEmpty
          ? "this hpod needs a token: pass --token or set HPOD_TOKEN" : "the token does not match this hpod's")
    }
    return try await next(request, context)
  }
}
