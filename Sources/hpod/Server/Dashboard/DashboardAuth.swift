import Foundation
import HPODAPI
import HTTPTypes
import Hummingbird

/// How a browser passes the bearer token: once, by the login form or `?token=` on any page,
/// after which it holds an HttpOnly, SameSite=Strict cookie that the daemon accepts like the
/// `Authorization` header (the page's scripts and event streams send it by themselves).
enum DashboardAuth {
  static let cookie = "hpod_session"

  /// The cookie's value: the token, percent-encoded so any token makes a valid cookie.
  static func cookieValue(_ token: String) -> String {
    token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
  }

  static func sessionCookie(_ token: String) -> String {
    Cookie(
      name: cookie, value: cookieValue(token), maxAge: 30 * 24 * 3600, path: "/", httpOnly: true, sameSite: .strict
    ).description
  }

  /// Pages (as opposed to the JSON API and the Prometheus metrics), which get the login form
  /// instead of a JSON 401.
  static func isPage(_ path: String) -> Bool {
    !path.hasPrefix("/api/") && path != "/metrics"
  }

  /// Where to go after logging in: a path on this server, never another site.
  static func safeNext(_ next: String?) -> String {
    guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
    return next
  }

  /// Compares without stopping at the first different byte.
  static func matches(_ given: String, _ token: String) -> Bool {
    let a = Array(given.utf8)
    let b = Array(token.utf8)
    var difference = a.count ^ b.count
    for index in 0..<min(a.count, b.count) { difference |= Int(a[index] ^ b[index]) }
    return difference == 0
  }

  /// `application/x-www-form-urlencoded` fields.
  static func formFields(_ body: String) -> [String: String] {
    var fields: [String: String] = [:]
    for item in body.split(separator: "&") {
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let decode = { (text: Substring) in
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
      }
      fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
    }
    return fields
  }

  static func loginPage(next: String?, problem: String?, status: HTTPResponse.Status) -> Response {
    DashboardController.html(
      (try? LoginPage(next: next, problem: problem).page().render()) ?? "log in", status: status)
  }
}
