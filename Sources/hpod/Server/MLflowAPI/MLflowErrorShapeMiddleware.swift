import Foundation
import HTTPTypes
import Hummingbird

/// Under MLflow's paths, the errors raised before any MLflow route answers (no such endpoint, a
/// wrong method, a missing or wrong token, a body too large) leave in MLflow's error shape,
/// `{"error_code": ..., "message": ...}`, with the code MLflow's client gives that HTTP status,
/// so the client reports ENDPOINT_NOT_FOUND or UNAUTHENTICATED instead of INTERNAL_ERROR.
struct MLflowErrorShapeMiddleware: RouterMiddleware {
  typealias Context = AppRequestContext

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    guard Self.isMLflowPath(request.uri.path) else { return try await next(request, context) }
    do {
      return try await next(request, context)
    } catch let error as HTTPError {
      var headers = error.headers
      headers[.contentType] = nil
      var response = MLflowJSON.response(
        ["error_code": Self.code(error.status), "message": error.body ?? error.status.reasonPhrase],
        status: error.status)
      response.headers.append(contentsOf: headers)
      return response
    }
  }

  /// MLflow's API paths: its own, and each trial's prefix of them.
  static func isMLflowPath(_ path: String) -> Bool {
    for prefix in ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"] {
      if path.hasPrefix(prefix) { return true }
      if path.hasPrefix("/hpod-trials/"), path.contains(prefix) { return true }
    }
    return false
  }

  /// The code MLflow's client (mlflow.exceptions.get_error_code) gives an HTTP status; a wrong
  /// method is an endpoint that does not exist.
  static func code(_ status: HTTPResponse.Status) -> String {
    switch status.code {
    case 400: "BAD_REQUEST"
    case 401: "UNAUTHENTICATED"
    case 403: "PERMISSION_DENIED"
    case 404, 405: "ENDPOINT_NOT_FOUND"
    case 413, 429: "REQUEST_LIMIT_EXCEEDED"
    case 501: "NOT_IMPLEMENTED"
    case 503: "TEMPORARILY_UNAVAILABLE"
    default: "INTERNAL_ERROR"
    }
  }
}
