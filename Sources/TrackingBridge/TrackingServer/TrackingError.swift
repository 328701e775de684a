/// A request the MLflow tracking API refuses, with MLflow's error code, so that the mlflow
/// client raises what it raises against an MLflow server.
public struct TrackingError: Error, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable {
    case invalidParameterValue = "INVALID_PARAMETER_VALUE"
    case resourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST"
    case resourceAlreadyExists = "RESOURCE_ALREADY_EXISTS"
    case invalidState = "INVALID_STATE"
    case badRequest = "BAD_REQUEST"
    /// A request larger than the API takes (answered 413).
    case requestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The HTTP status MLflow answers with.
  public var httpStatus: Int {
    switch code {
    case .resourceDoesNotExist: 404
    case .requestLimitExceeded: 413
    default: 400
    }
  }

  public var description: String { "\(code.rawValue): \(message)" }

  public static func invalid(_ message: String) -> TrackingError { TrackingError(.invalidParameterValue, message) }
  public static func missing(_ message: String) -> TrackingError { TrackingError(.resourceDoesNotExist, message) }
}
