/// MLflow's limits on what one request may carry (mlflow/utils/validation.py, 3.x), and the
/// shaping that keeps every write within them: a write over a limit is refused whole.
enum MLflowLimits {
  static let metricsPerBatch = 1000
  static let paramsOrTagsPerBatch = 100
  static let keyLength = 250
  static let paramValueLength = 6000
  static let tagValueLength = 8000

  /// A key MLflow accepts: letters, digits, `_ - . : /` and spaces (anything else becomes
  /// `_`), a path that `posixpath.normpath` leaves as it is (no empty, `.` or `..` segment),
  /// at most 250 characters.
  static func key(_ name: String) -> String {
    let cleaned = String(
      name.map { character -> Character in
        character.isASCII && (character.isLetter || character.isNumber || "_-. :/".contains(character))
          ? character : "_"
      })
    let segments = cleaned.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
      .map { $0 == ".." ? "__" : String($0) }
    let normal = segments.isEmpty ? "_" : segments.joined(separator: "/")
    return String(normal.prefix(keyLength))
  }

  /// The value cut to `limit` characters as MLflow counts them (code points), and whether it was.
  static func value(_ text: String, limit: Int) -> (String, truncated: Bool) {
    guard text.unicodeScalars.count > limit else { return (text, false) }
    var scalars = String.UnicodeScalarView()
    scalars.append(contentsOf: text.unicodeScalars.prefix(limit))
    return (String(scalars), true)
  }

  /// Parameters as MLflow stores them (strings within the limits), with the names of those
  /// that had to be cut, to be flagged in a tag.
  static func params(_ params: [(String, String)]) -> (params: [(String, String)], truncated: [String]) {
    var truncated: [String] = []
    var used: Set<String> = []
    let shaped = params.map { name, value in
      let (cut, wasCut) = Self.value(value, limit: paramValueLength)
      if wasCut { truncated.append(name) }
      // Two names made equal by the shaping (`lr[a]`, `lr(a)`) stay two params.
      var shapedKey = key(name)
      var suffix = 2
      while used.contains(shapedKey) {
        shapedKey = String(key(name).prefix(keyLength - 4)) + "_\(suffix)"
        suffix += 1
      }
      used.insert(shapedKey)
      return (shapedKey, cut)
    }
    return (shaped, truncated)
  }

  static func tags(_ tags: [(String, String)]) -> [(String, String)] {
    tags.map { (key($0.0), value($0.1, limit: tagValueLength).0) }
  }

  static func chunks<T>(_ items: [T], of size: Int) -> [[T]] {
    stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
  }

  /// Params or tags in chunks of at most 100 and about 500 kB, well inside the 1 MB a
  /// log-batch request (and many proxies) accept, whatever the text is made of.
  static func chunks(_ pairs: [(String, String)]) -> [[(String, String)]] {
    var chunks: [[(String, String)]] = []
    var current: [(String, String)] = []
    var bytes = 0
    for pair in pairs {
      let size = pair.0.utf8.count + pair.1.utf8.count + 32
      if !current.isEmpty, current.count == paramsOrTagsPerBatch || bytes + size > 500_000 {
        chunks.append(current)
        current = []
        bytes = 0
      }
      current.append(pair)
      bytes += size
    }
    if !current.isEmpty { chunks.append(current) }
    return chunks
  }
}
