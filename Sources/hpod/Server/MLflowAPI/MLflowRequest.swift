import Foundation
import Hummingbird
import NIOCore
import TrackingBridge

/// The fields of an MLflow API request: the JSON body of a POST, or the query of a GET (the
/// mlflow client sends GET requests' fields as query parameters). Numbers are accepted as
/// JSON numbers or as decimal strings (proto3's JSON form of int64) and range-checked.
struct MLflowRequest {
  private var fields: [String: Any]
  private var query: [String: [String]]
  /// The trial asking, when it called through its own prefix (`hpod-trials/<trial id>/`).
  private(set) var trialId: Int64?

  static let bodyLimit = 16 << 20

  init(_ request: Request, parameters: Parameters) async throws {
    query = Self.formFields(request.uri.query ?? "")
    fields = [:]
    trialId = parameters.get("hpod_trial").flatMap { Int64($0) }
    guard request.method != .get else { return }
    var request = request
    let body: ByteBuffer
    do {
      body = try await request.collectBody(upTo: Self.bodyLimit)
    } catch is NIOTooManyBytesError {
      throw TrackingError(
        .requestLimitExceeded,
        "The request body is larger than \(Self.bodyLimit >> 20) MB, the most an MLflow API request may send")
    }
    guard body.readableBytes > 0 else { return }
    let data = Data(body.readableBytesView)
    guard let object = try? JSONSerialization.jsonObject(with: data), let dictionary = object as? [String: Any] else {
      throw TrackingError(.badRequest, "The request body is not a JSON object")
    }
    fields = dictionary
  }

  /// The fields of a query as the mlflow client encodes them (`+` for a space, `%XX`).
  static func formFields(_ query: String) -> [String: [String]] {
    var fields: [String: [String]] = [:]
    for pair in query.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
      }
      fields[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
    }
    return fields
  }

  func has(_ key: String) -> Bool { fields[key] != nil || query[key] != nil }

  func string(_ key: String) throws -> String? {
    if let values = query[key] { return values.last }
    guard let value = fields[key], !(value is NSNull) else { return nil }
    if let text = value as? String { return text }
    // A number or a boolean where a string belongs is refused, in MLflow's words.
    let (shown, type) = Self.described(value)
    throw TrackingError.invalid(
      "Invalid value \(shown) for parameter '\(key)' supplied:  Hint: Value was of type '\(type)'. See the API docs for more information about request parameters."
    )
  }

  /// A JSON value as Python shows it and its Python type name, for MLflow's messages.
  static func described(_ value: Any) -> (String, String) {
    if let number = value as? NSNumber {
      if String(cString: number.objCType) == "c" { return (number.boolValue ? "True" : "False", "bool") }
      return Double(number.int64Value) == number.doubleValue
        ? (number.stringValue, "int") : (number.stringValue, "float")
    }
    if value is [Any] { return ("[...]", "list") }
    if value is [String: Any] { return ("{...}", "dict") }
    return ("\(value)", "str")
  }

  func requiredString(_ key: String) throws -> String {
    guard let value = try string(key), !value.isEmpty else {
      throw TrackingError.invalid("Missing value for required parameter '\(key)'.")
    }
    return value
  }

  func int64(_ key: String) throws -> Int64? {
    if let values = query[key], let text = values.last { return try Self.int64(text, key) }
    guard let value = fields[key], !(value is NSNull) else { return nil }
    if let text = value as? String { return try Self.int64(text, key) }
    if let number = value as? NSNumber {
      let double = number.doubleValue
      guard double.isFinite, double == double.rounded(), abs(double) < 9.2e18 else {
        throw TrackingError.invalid("Invalid value \(number) for parameter '\(key)': expected a whole number")
      }
      return number.int64Value
    }
    throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a whole number")
  }

  static func int64(_ text: String, _ key: String) throws -> Int64 {
    guard let value = Int64(text) else {
      throw TrackingError.invalid("Invalid value \"\(text)\" for parameter '\(key)': expected a whole number")
    }
    return value
  }

  func requiredInt64(_ key: String) throws -> Int64 {
    guard let value = try int64(key) else {
      throw TrackingError.invalid("Missing value for required parameter '\(key)'.")
    }
    return value
  }

  /// An experiment id: MLflow sends it as a string of digits.
  func experimentId(_ key: String = "experiment_id") throws -> Int64 {
    let text = try requiredString(key)
    guard let id = Int64(text), id >= 0 else {
      throw TrackingError.invalid("Invalid experiment ID: '\(text)'")
    }
    return id
  }

  func double(_ key: String) throws -> Double? {
    guard let value = fields[key] ?? query[key]?.last, !(value is NSNull) else { return nil }
    if let number = value as? NSNumber { return number.doubleValue }
    if let text = value as? String, let number = Double(text) { return number }
    throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a number")
  }

  func strings(_ key: String) throws -> [String] {
    if let values = query[key] { return values }
    guard let value = fields[key], !(value is NSNull) else { return [] }
    if let list = value as? [Any] {
      return try list.map { item in
        if let text = item as? String { return text }
        if let number = item as? NSNumber { return number.stringValue }
        throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a list of strings")
      }
    }
    if let text = value as? String { return [text] }
    throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a list of strings")
  }

  /// `[{"key": ..., "value": ...}]`, as params and tags come.
  func keyValues(_ key: String) throws -> [(String, String)] {
    guard let value = fields[key], !(value is NSNull) else { return [] }
    guard let list = value as? [[String: Any]] else {
      throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a list of {key, value} objects")
    }
    return try list.map { item in
      guard let name = item["key"] as? String else {
        throw TrackingError.invalid("Missing value for required parameter '\(key).key'.")
      }
      let value = item["value"].flatMap { $0 as? String ?? ($0 as? NSNumber)?.stringValue } ?? ""
      return (name, value)
    }
  }

  func metrics(_ key: String) throws -> [TrackingMetric] {
    guard let value = fields[key], !(value is NSNull) else { return [] }
    guard let list = value as? [[String: Any]] else {
      throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a list of metrics")
    }
    return try list.map { item in
      let metric = MLflowRequest(fields: item)
      return TrackingMetric(
        key: try metric.requiredString("key"), value: try metric.requiredDouble("value"),
        timestamp: try metric.requiredInt64("timestamp"), step: Int(try metric.int64("step") ?? 0),
        modelId: try metric.string("model_id").flatMap { $0.isEmpty ? nil : $0 },
        datasetName: try metric.string("dataset_name").flatMap { $0.isEmpty ? nil : $0 },
        datasetDigest: try metric.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 })
    }
  }

  /// A list of JSON objects (`datasets`, `order_by`, `models`), each read as a request's fields.
  func objects(_ key: String) throws -> [MLflowRequest] {
    guard let value = fields[key], !(value is NSNull) else { return [] }
    guard let list = value as? [Any] else {
      throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a list of objects")
    }
    return try list.map { item in
      guard let object = item as? [String: Any] else {
        throw TrackingError.invalid("Invalid value for parameter '\(key)': expected a list of objects")
      }
      return MLflowRequest(fields: object)
    }
  }

  /// A JSON object field, read as a request's fields.
  func object(_ key: String) throws -> MLflowRequest? {
    guard let value = fields[key], !(value is NSNull) else { return nil }
    guard let object = value as? [String: Any] else {
      throw TrackingError.invalid("Invalid value for parameter '\(key)': expected an object")
    }
    return MLflowRequest(fields: object)
  }

  /// A boolean: JSON true/false, or `true`/`false` in a query.
  func bool(_ key: String) throws -> Bool? {
    if let text = query[key]?.last { return text.lowercased() == "true" }
    guard let value = fields[key], !(value is NSNull) else { return nil }
    guard let flag = value as? Bool else {
      throw TrackingError.invalid("Invalid value for parameter '\(key)': expected true or false")
    }
    return flag
  }

  /// The JSON value of a field as sent (for a page token's record of the request).
  func raw(_ key: String) -> Any? { fields[key] }

  func requiredDouble(_ key: String) throws -> Double {
    guard let value = try double(key) else {
      throw TrackingError.invalid("Missing value for required parameter '\(key)'.")
    }
    return value
  }

  /// A request with no fields (an object a request left out).
  static var empty: MLflowRequest { MLflowRequest(fields: [:]) }

  private init(fields: [String: Any]) {
    self.fields = fields
    query = [:]
  }

  /// `max_results`, checked against MLflow's limit.
  func maxResults(default value: Int, limit: Int) throws -> Int {
    guard let requested = try int64("max_results") else { return value }
    guard requested >= 1, requested <= limit else {
      throw TrackingError.invalid(
        "Invalid value \(requested) for parameter 'max_results' supplied. It must be at most \(limit), and at least 1.")
    }
    return Int(requested)
  }

  /// The offset a `page_token` carries (base64 of `{"offset": n}`, as MLflow's own tokens).
  func pageOffset() throws -> Int {
    guard let token = try string("page_token"), !token.isEmpty else { return 0 }
    guard let data = Data(base64Encoded: token),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let offset = object["offset"] as? Int, offset >= 0
    else {
      throw TrackingError.invalid("Invalid page token, could not base64-decode")
    }
    return offset
  }

  static func pageToken(_ offset: Int?) -> String? {
    offset.map { Data(#"{"offset": \#($0)}"#.utf8).base64EncodedString() }
  }
}
