/// SQL LIKE for the search filter: `%` is any run of characters, `_` any one character.
///
/// Matched without recursion and without a table: the pattern is cut at its `%`s into
/// segments; the first must match at the start, the last at the end, and each one between
/// is taken at its leftmost place after the one before (taking a later place can never help
/// the segments that follow). The time is at most the text's length times the pattern's, the
/// memory the two arrays, whatever the input: a pattern of 100,000 `%`s is one pass.
enum LikePattern {
  static func matches(_ text: String, _ pattern: String, caseSensitive: Bool) -> Bool {
    let text = Array(caseSensitive ? text : text.lowercased())
    let pattern = Array(caseSensitive ? pattern : pattern.lowercased())
    let segments = pattern.split(separator: "%", omittingEmptySubsequences: false)
    // No `%`: the whole text must match the one segment.
    guard segments.count > 1 else {
      return text.count == pattern.count && segmentMatches(pattern[...], text, at: 0)
    }
    let first = segments[0]
    let last = segments[segments.count - 1]
    guard text.count >= first.count + last.count, segmentMatches(first, text, at: 0),
      segmentMatches(last, text, at: text.count - last.count)
    else { return false }
    var position = first.count
    let end = text.count - last.count
    for segment in segments.dropFirst().dropLast() where !segment.isEmpty {
      guard let found = leftmost(segment, in: text, from: position, before: end) else { return false }
      position = found + segment.count
    }
    return true
  }

  /// Whether `segment` (no `%`, `_` for any character) matches `text` from `start`.
  private static func segmentMatches(_ segment: ArraySlice<Character>, _ text: [Character], at start: Int) -> Bool {
    guard start >= 0, start + segment.count <= text.count else { return false }
    var index = start
    for character in segment {
      if character != "_" && character != text[index] { return false }
      index += 1
    }
    return true
  }

  /// The first place at or after `start` where `segment` matches and ends by `end`.
  private static func leftmost(_ segment: ArraySlice<Character>, in text: [Character], from start: Int, before end: Int)
    -> Int?
  {
    var candidate = start
    while candidate + segment.count <= end {
      if segmentMatches(segment, text, at: candidate) { return candidate }
      candidate += 1
    }
    return nil
  }
}
