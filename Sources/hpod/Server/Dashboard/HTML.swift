import Foundation
import NumberText
import TrackingBridge

/// A fragment of HTML. Interpolated strings are escaped; only other `HTML` values go in as
/// they are, so user-derived text (study names, parameters, tags, logs) can never become markup.
struct HTML: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
  private(set) var text: String

  init(stringLiteral value: String) { text = value }
  init(stringInterpolation: StringInterpolation) { text = stringInterpolation.text }
  /// Trusted markup built by this module, never text from a request or the store.
  init(raw: String) { text = raw }

  var description: String { text }
  static let empty = HTML(raw: "")

  struct StringInterpolation: StringInterpolationProtocol {
    var text = ""

    init(literalCapacity: Int, interpolationCount: Int) {
      text.reserveCapacity(literalCapacity + interpolationCount * 16)
    }
    mutating func appendLiteral(_ literal: String) { text += literal }
    mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }
    mutating func appendInterpolation(_ value: Substring) { text += HTML.escape(String(value)) }
    mutating func appendInterpolation(_ value: HTML) { text += value.text }
    mutating func appendInterpolation(_ values: [HTML]) { for value in values { text += value.text } }
    mutating func appendInterpolation(_ value: Int) { text += String(value) }
    mutating func appendInterpolation(_ value: Int64) { text += String(value) }
    /// A coordinate or size in SVG, with 1 decimal.
    mutating func appendInterpolation(svg value: Double) { text += HTML.coordinate(value) }
  }

  static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(raw: lhs.text + rhs.text) }

  static func escape(_ text: String) -> String {
    guard text.contains(where: { "&<>\"'".contains($0) }) else { return text }
    var out = ""
    out.reserveCapacity(text.count + 16)
    for character in text {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(character)
      }
    }
    return out
  }

  static func coordinate(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let tenths = (value * 10).rounded()
    return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
  }

  /// A value as data for inline script: JSON with `<`, `>` and `&` escaped, so it cannot
  /// close the script element.
  static func json<T: Encodable>(_ value: T) -> HTML {
    let text = JSONCoding.text(value, fallback: "null")
    return HTML(
      raw: text.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
        .replacingOccurrences(of: "&", with: "\\u0026"))
  }

  /// A query string from pairs, percent-encoded (for links; escape the result when it goes
  /// into an attribute, which interpolation does).
  static func query(_ pairs: [(String, String?)]) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+;#?/")
    let parts = pairs.compactMap { key, value -> String? in
      guard let value, !value.isEmpty else { return nil }
      return "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
    }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
  }
}

/// Numbers as the dashboard shows them.
enum Format {
  static func value(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "–" }
    return NumberText.of(value)
  }

  static func duration(_ seconds: Double?) -> String {
    guard let seconds, seconds.isFinite else { return "–" }
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    if seconds < 3600 { return String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60) }
    return String(format: "%d h %02d min", Int(seconds) / 3600, Int(seconds) % 3600 / 60)
  }

  static func bytes(_ count: Int) -> String {
    if count < 1024 { return "\(count) B" }
    if count < 1 << 20 { return String(format: "%.1f KB", Double(count) / 1024) }
    return String(format: "%.1f MB", Double(count) / Double(1 << 20))
  }

  static func date(_ date: Date?) -> String {
    guard let date else { return "–" }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date) + " UTC"
  }
}
