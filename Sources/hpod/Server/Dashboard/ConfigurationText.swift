import Foundation
import SearchStrategies
import StudyModel

/// A trial's `paramsJSON` read without `JSONDecoder`, for the dashboard's snapshot of a large
/// study: `ParameterValue` decodes by trying Bool, then Int, then Double, and each failed try
/// builds an error, which made decoding 10,000 configurations a tenth of the study page's time.
/// Only the text hpod writes is read here — one flat object of strings without escapes,
/// integers, decimals and booleans; anything else (an escape, a nested value, a decimal that
/// is a whole number, which `JSONDecoder` may read as an Int) returns nil, and the caller
/// decodes it with `JSONDecoder`, so both give the same configuration.
enum ConfigurationText {
  static func parse(_ text: String) -> Configuration? {
    var text = text
    return text.withUTF8 { bytes -> Configuration? in
      var reader = Reader(bytes: bytes)
      return reader.object()
    }
  }

  private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    mutating func skipSpace() {
      while index < bytes.count,
        bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D
          || bytes[index] == 0x09
      {
        index += 1
      }
    }

    mutating func take(_ byte: UInt8) -> Bool {
      skipSpace()
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    mutating func object() -> Configuration? {
      guard take(UInt8(ascii: "{")) else { return nil }
      var values: [String: ParameterValue] = [:]
      if take(UInt8(ascii: "}")) { return end(values) }
      repeat {
        guard let key = string(), take(UInt8(ascii: ":")), let value = value(), values[key] == nil else { return nil }
        values[key] = value
      } while take(UInt8(ascii: ","))
      guard take(UInt8(ascii: "}")) else { return nil }
      return end(values)
    }

    mutating func end(_ values: [String: ParameterValue]) -> Configuration? {
      skipSpace()
      return index == bytes.count ? Configuration(values) : nil
    }

    /// A string without escapes (hpod's parameter names and categorical values rarely have any).
    mutating func string() -> String? {
      guard take(UInt8(ascii: "\"")) else { return nil }
      let start = index
      while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
        guard bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 else { return nil }
        index += 1
      }
      guard index < bytes.count else { return nil }
      let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
      index += 1
      return text
    }

    mutating func value() -> ParameterValue? {
      skipSpace()
      guard index < bytes.count else { return nil }
      switch bytes[index] {
      case UInt8(ascii: "\""): return string().map(ParameterValue.string)
      case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
      case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
      default: return number()
      }
    }

    mutating func literal(_ word: String) -> Bool {
      let utf8 = Array(word.utf8)
      guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else { return false }
      index += utf8.count
      return true
    }

    /// An integer (as Int when it fits), or a decimal that is not a whole number (as Double).
    mutating func number() -> ParameterValue? {
      let start = index
      var decimal = false
      while index < bytes.count {
        switch bytes[index] {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): break
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"): decimal = true
        default:
          return finish(start, decimal)
        }
        index += 1
      }
      return finish(start, decimal)
    }

    func finish(_ start: Int, _ decimal: Bool) -> ParameterValue? {
      guard Self.isJSONNumber(bytes[start..<index]) else { return nil }
      let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
      guard decimal else { return Int(text).map(ParameterValue.int) }
      guard let value = Double(text), value.isFinite, value != value.rounded() else { return nil }
      return .double(value)
    }

    /// JSON's grammar of a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func isJSONNumber(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
      var index = text.startIndex
      let isDigit = { (i: Int) in i < text.endIndex && text[i] >= UInt8(ascii: "0") && text[i] <= UInt8(ascii: "9") }
      func digits() -> Bool {
        guard isDigit(index) else { return false }
        while isDigit(index) { index += 1 }
        return true
      }
      if index < text.endIndex, text[index] == UInt8(ascii: "-") { index += 1 }
      if index < text.endIndex, text[index] == UInt8(ascii: "0") {
        index += 1
      } else if !digits() {
        return false
      }
      if index < text.endIndex, text[index] == UInt8(ascii: ".") {
        index += 1
        guard digits() else { return false }
      }
      if index < text.endIndex, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") {
        index += 1
        if index < text.endIndex, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() else { return false }
      }
      return index == text.endIndex
    }
  }
}
