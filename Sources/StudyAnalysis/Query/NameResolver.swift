import DidYouMean

/// Maps a name as a question wrote it (`F1`, `validation loss`, `acc`, `learning rate`,
/// `los`) onto one of a study's names (`f1`, `val_loss`, `accuracy`, `lr`, `loss`): exact,
/// then ignoring case, then ignoring separators, then word by word (each word a prefix of the
/// other's, or initials), then as a prefix, then within a small edit distance. A name that
/// matches none, or several at the same step, is a `QueryFailure` that lists what exists.
public struct NameResolver: Sendable {
  /// What the names are, for messages: `metric`, `parameter`.
  public var kind: String
  public var names: [String]

  public init(kind: String, names: [String]) {
    self.kind = kind
    self.names = Array(Set(names)).sorted()
  }

  public func resolve(_ phrase: String) throws(QueryFailure) -> String {
    let steps: [(String) -> Bool] = [
      { $0 == phrase },
      { $0.lowercased() == phrase.lowercased() },
      { Self.squashed($0) == Self.squashed(phrase) },
      { Self.wordsMatch(Self.words(phrase), Self.words($0)) },
      { Self.squashed($0).hasPrefix(Self.squashed(phrase)) && Self.squashed(phrase).count >= 2 },
      { Self.containsWords(Self.words($0), Self.words(phrase)) },
    ]
    for step in steps {
      let found = names.filter(step)
      if found.count == 1 { return found[0] }
      if found.count > 1 {
        throw QueryFailure(
          "'\(phrase)' could be the \(kind) \(Self.list(found, joiner: "or")); say which")
      }
    }
    let target = Self.squashed(phrase)
    let whole = names.map { (name: $0, distance: Self.editDistance(Self.squashed($0), target)) }
    if let closest = whole.map(\.distance).min() {
      let nearest = whole.filter { $0.distance == closest }.map(\.name)
      if closest <= (target.count >= 6 ? 2 : 1), nearest.count == 1 { return nearest[0] }
    }
    // A typo within one word of a name (`lss` for `val_loss`) is only suggested.
    let partial = names.map { name in
      (name: name, distance: ([Self.squashed(name)] + Self.words(name)).map { Self.editDistance($0, target) }.min()!)
    }
    if let closest = partial.map(\.distance).min() {
      let nearest = partial.filter { $0.distance == closest }.map(\.name)
      if closest <= max(2, target.count / 2) {
        throw QueryFailure(
          "no \(kind) '\(phrase)'; did you mean \(Self.list(nearest, joiner: "or"))? \(available)")
      }
    }
    throw QueryFailure("no \(kind) '\(phrase)'. \(available)")
  }

  /// `metrics: a, b, c` (or that there are none yet).
  public var available: String {
    names.isEmpty ? "The study has no \(kind)s yet." : "\(kind.capitalized)s: \(names.joined(separator: ", "))."
  }

  static func list(_ names: [String], joiner: String) -> String {
    let quoted = names.map { "'\($0)'" }
    guard quoted.count > 1 else { return quoted.first ?? "" }
    return quoted.dropLast().joined(separator: ", ") + " \(joiner) " + quoted.last!
  }

  /// Lowercased, without separators: `Val-Loss` and `val_loss` are `valloss`.
  static func squashed(_ name: String) -> String {
    String(name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "@" })
  }

  /// The words of a name: split at separators and lower-to-upper case changes.
  static func words(_ name: String) -> [String] {
    var words: [String] = []
    var current = ""
    var previousLower = false
    for character in name {
      if !(character.isLetter || character.isNumber || character == "@") {
        if !current.isEmpty { words.append(current) }
        current = ""
        previousLower = false
        continue
      }
      if character.isUppercase && previousLower {
        words.append(current)
        current = ""
      }
      current.append(Character(character.lowercased()))
      previousLower = character.isLowercase
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  /// `validation loss` ~ `val_loss` (each word a prefix of the other's), `learning rate` ~
  /// `lr` and `lr` ~ `learning_rate` (initials).
  static func wordsMatch(_ a: [String], _ b: [String]) -> Bool {
    guard !a.isEmpty, !b.isEmpty else { return false }
    if a.count == b.count, a.count > 1 {
      return zip(a, b).allSatisfy { x, y in x.hasPrefix(y) || y.hasPrefix(x) }
    }
    let initials = { (words: [String]) in String(words.compactMap(\.first)) }
    if a.count == 1, b.count > 1 { return a[0] == initials(b) }
    if b.count == 1, a.count > 1 { return b[0] == initials(a) }
    return false
  }

  /// `loss` ~ `val_loss`: every word of the phrase is (a prefix of) a word of the name.
  static func containsWords(_ name: [String], _ phrase: [String]) -> Bool {
    guard !phrase.isEmpty, phrase.count < name.count else { return false }
    return phrase.allSatisfy { word in name.contains { $0 == word || ($0.hasPrefix(word) && word.count >= 2) } }
  }

  /// Levenshtein distance (the spec reader's, which suggests keys the same way).
  static func editDistance(_ a: String, _ b: String) -> Int {
    DidYouMean.editDistance(a, b)
  }
}

/// A question that was understood but cannot be answered as asked: an unknown or ambiguous
/// name, a trial that does not exist, too few trials. The message says what exists.
public struct QueryFailure: Error, Sendable, Hashable, CustomStringConvertible {
  public var description: String

  public init(_ description: String) {
    self.description = description
  }
}
