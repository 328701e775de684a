import Foundation
import HPODAPI
import HTTPTypes
import Hummingbird
import NIOCore
import TrialScheduler

/// A JSON body written with the API's encoder (explicit snake_case keys, ISO 8601 dates).
struct JSONBody<T: Encodable & Sendable>: ResponseGenerator {
  var value: T
  var status: HTTPResponse.Status = .ok

  init(_ value: T, status: HTTPResponse.Status = .ok) {
    self.value = value
    self.status = status
  }

  func response(from request: Request, context: some RequestContext) throws -> Response {
    let data = try API.encoder.encode(value)
    return Response(
      status: status, headers: [.contentType: "application/json; charset=utf-8"],
      body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}

/// A spec that does not validate: 422 with every located issue.
struct SpecErrorResponse: HTTPResponseError {
  var error: SpecValidationError
  var status: HTTPResponse.Status { .unprocessableContent }

  func response(from request: Request, context: some RequestContext) throws -> Response {
    let issues = error.issues
    let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
    let body = API.ErrorBody(error: .init(message: "invalid study spec (\(count))", issues: issues))
    return try JSONBody(body, status: status).response(from: request, context: context)
  }
}

extension ServiceError {
  var http: HTTPError {
    switch self {
    case .notFound(let message): HTTPError(.notFound, message: message)
    case .conflict(let message): HTTPError(.conflict, message: message)
    case .badRequest(let message): HTTPError(.badRequest, message: message)
    }
  }
}

/// Runs a route body, mapping service and spec errors to their HTTP answers.
func mapped<T>(_ body: () async throws -> T) async throws -> T {
  do {
    return try await body()
  } catch let error as ServiceError {
    throw error.http
  } catch let error as SpecValidationError {
    throw SpecErrorResponse(error: error)
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
