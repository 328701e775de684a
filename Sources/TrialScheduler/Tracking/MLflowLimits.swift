/// MLflow's limits on what one request may carry (mlflow/utils/validation.py, 3.x), and the
/// shaping that keeps every write within them: a write over a limit is refused whole.
enum MLflowLimits {
  static let metricsPerBatch = 1000
  static let paramsOrTagsPerBatch = 100
  static let keyLength = 250
  static let paramValueLength = 6000
  static let tagValueLength = 8000

  /// A key MLflow accepts: letters, digits, `_ - . : /` and spaces, at most 250 characters.
  /// Anything else becomes `_`.
  static func key(_ name: String) -> String {
    let cleaned = String(
      name.map { character -> Character in
        character.isASCII && (character.isLetter || character.isNumber || "_-. :/".contains(character))
          ? character : "_"
      })
    return String(cleaned.prefix(keyLength))
  }

  /// The value cut to `limit` characters, and whether it was cut.
  static func value(_ text: String, limit: Int) -> (String, truncated: Bool) {
    text.count > limit ? (String(text.prefix(limit)), true) : (text, false)
  }

  /// Parameters as MLflow stores them (strings within the limits), with the names of those
  /// that had to be cut, to be flagged in a tag.
  static func params(_ params: [(String, String)]) -> (params: [(String, String)], truncated: [String]) {
    var truncated: [String] = []
    let shaped = params.map { name, value in
      let (cut, wasCut) = Self.value(value, limit: paramValueLength)
      if wasCut { truncated.append(name) }
      return (key(name), cut)
    }
    return (shaped, truncated)
  }

  static func tags(_ tags: [(String, String)]) -> [(String, String)] {
    tags.map { (key($0.0), value($0.1, limit: tagValueLength).0) }
  }

  static func chunks<T>(_ items: [T], of size: Int) -> [[T]] {
    stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
  }
}
