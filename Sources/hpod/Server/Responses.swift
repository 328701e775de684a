import Foundation
import HPODAPI
public import HTTPTypes
public import Hummingbird
import NIOCore
public import TrialScheduler

/// A JSON body written with the API's encoder (explicit snake_case keys, ISO 8601 dates).
struct JSONBody<T: Encodable & Sendable>: ResponseGenerator {
  var value: T
  public var status: HTTPResponse.Status = .ok

  init(_ value: T, status: HTTPResponse.Status = .ok) {
    self.value = value
    self.status = status
  }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    let data = try API.encoder.encode(value)
    return Response(
      status: status, headers: [.contentType: "application/json; charset=utf-8"],
      body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}

/// A spec that does not validate: 422 with every located issue, wherever a route throws it.
extension SpecValidationError: HTTPResponseError {
  public var status: HTTPResponse.Status { .unprocessableContent }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
    let body = API.ErrorBody(error: .init(message: "invalid study spec (\(count))", issues: issues))
    return try JSONBody(body, status: status).response(from: request, context: context)
  }
}

/// The service's refusals as their HTTP answers (404, 409, 400 with the message), wherever a
/// route throws them: the routes need no wrapper.
extension ServiceError: HTTPResponseError {
  public var status: HTTPResponse.Status { http.status }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    try http.response(from: request, context: context)
  }

  var http: HTTPError {
    switch self {
    case .notFound(let message): HTTPError(.notFound, message: message)
    case .conflict(let message): HTTPError(.conflict, message: message)
    case .badRequest(let message): HTTPError(.badRequest, message: message)
    }
  }
}

extension Request {
  /// The body, refusing anything larger than `limit` with a 413 that says the limit.
  mutating func collectBody(limit: Int) async throws -> ByteBuffer {
    do {
      return try await collectBody(upTo: limit)
    } catch {
      throw HTTPError(.contentTooLarge, message: "the request body is larger than \(limit) bytes")
    }
  }
}
