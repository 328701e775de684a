public import Foundation

/// hpod's one JSON configuration, for what it stores (a trial's parameters, tags, a lease's
/// owner) and what it serves: keys sorted, so the same value is always the same text (stored
/// configurations compare and hash alike everywhere); dates as ISO-8601; keys as each type
/// spells them in its CodingKeys (never a key strategy, which would also rewrite parameter and
/// metric names inside dictionaries). A metric's NaN and ±Infinity are the strings "NaN",
/// "Infinity" and "-Infinity", as MLflow's protobuf JSON writes them.
public enum JSONCoding {
  public static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = nonFinite
    return encoder
  }

  public static var decoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
  }

  /// NaN and ±Infinity as protobuf's JSON (MLflow's wire format) writes them.
  public static let nonFinite = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
    positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")

  /// `value` as JSON text, or `fallback` if it cannot be encoded (a non-finite number).
  public static func text<T: Encodable>(_ value: T, fallback: String = "{}") -> String {
    (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? fallback
  }
}
