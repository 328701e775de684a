import Foundation
import TrackingBridge

/// A logged-model search's page token, as MLflow makes it: base64 of JSON holding the offset
/// and the search it continues (experiment ids, filter, order), so that a token is refused
/// for a different search.
enum SearchToken {
  struct Query {
    var experimentIds: [String]
    var filter: String?
    /// `order_by` as the request sent it.
    var orderBy: Any?

    /// The order as canonical JSON text (keys sorted), to compare two searches by.
    var orderText: String {
      guard let orderBy, !(orderBy is NSNull), (orderBy as? [Any])?.isEmpty != true,
        let data = try? JSONSerialization.data(withJSONObject: orderBy, options: [.sortedKeys])
      else { return "null" }
      return String(decoding: data, as: UTF8.self)
    }
  }

  static func token(offset: Int, for query: Query) -> String {
    let object: [String: Any] = [
      "experiment_ids": query.experimentIds, "filter_string": query.filter ?? NSNull(), "offset": offset,
      "order_by": query.orderText,
    ]
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return data.base64EncodedString()
  }

  /// The offset a token carries (0 without one), refused when it was made for another search.
  static func offset(_ token: String?, for query: Query) throws -> Int {
    guard let token, !token.isEmpty else { return 0 }
    guard let data = Data(base64Encoded: token),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let offset = object["offset"] as? Int, offset >= 0
    else {
      throw TrackingError.invalid("Invalid page token: \(token.prefix(100)). It is not one a search returned.")
    }
    let experimentIds = object["experiment_ids"] as? [String] ?? []
    guard experimentIds == query.experimentIds else {
      throw TrackingError.invalid(
        "Experiment IDs in the page token do not match the requested experiment IDs. Expected: \(query.experimentIds). Found: \(experimentIds)"
      )
    }
    let filter = object["filter_string"] as? String
    guard filter == query.filter else {
      throw TrackingError.invalid(
        "Filter string in the page token does not match the requested filter string. Expected: \(query.filter ?? "None"). Found: \(filter ?? "None")"
      )
    }
    guard object["order_by"] as? String == query.orderText else {
      throw TrackingError.invalid(
        "Order by in the page token does not match the requested order by. Expected: \(query.orderText).")
    }
    return offset
  }
}
