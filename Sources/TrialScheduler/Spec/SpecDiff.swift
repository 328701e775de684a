import Yams

/// What changed between two versions of a study's spec, key by key (`search.max_trials:
/// 20 → 40`, `parameters.momentum: added`), for the line `hpod run` prints when it continues a
/// study from an edited spec, and for the refusal when the edit changed what the study's
/// trials measure. Comments and layout are not changes; values are compared as YAML text.
public struct SpecDiff: Sendable, Hashable {
  public struct Change: Sendable, Hashable, CustomStringConvertible {
    /// The key path, `search.max_trials` or `constraints[1]`.
    public var path: String
    /// The old and new values as short YAML text; nil where the key is absent.
    public var old: String?
    public var new: String?

    public var description: String {
      switch (old, new) {
      case (nil, let new?): "\(path): added (\(new))"
      case (let old?, nil): "\(path): removed (was \(old))"
      default: "\(path): \(old ?? "") → \(new ?? "")"
      }
    }
  }

  public var changes: [Change]

  /// The top-level sections that define what a study's trials measure: its search space and
  /// objectives. A study continues from an edited spec only when these are unchanged.
  public static let identitySections: Set<String> = ["parameters", "objective", "objectives", "constraints"]

  /// The changes inside the sections that define the study (`identitySections`).
  public var identityChanges: [Change] {
    changes.filter { change in
      let section = change.path.prefix { $0 != "." && $0 != "[" }
      return Self.identitySections.contains(String(section))
    }
  }

  /// `changes` as indented lines, at most `limit` of them and a count of the rest.
  public static func lines(_ changes: [Change], limit: Int = 12) -> [String] {
    let listed = changes.prefix(limit).map { "  \($0)" }
    return changes.count > limit ? listed + ["  (and \(changes.count - limit) more)"] : listed
  }

  /// Longest value text shown in a change; longer ones are cut with an ellipsis.
  static let shownLength = 60

  /// Compares two spec texts. Walks both trees with a work list, not recursion: a spec's depth
  /// is bounded by the parser, but no walk over input recurses.
  public static func between(_ oldText: String, _ newText: String) -> SpecDiff {
    let old = (try? Yams.compose(yaml: oldText)) ?? nil
    let new = (try? Yams.compose(yaml: newText)) ?? nil
    var changes: [Change] = []
    var work: [(path: String, old: Node?, new: Node?)] = [("", old, new)]
    while let (path, old, new) = work.popLast() {
      switch (old, new) {
      case (.mapping(let a)?, .mapping(let b)?):
        var seen = Set<String>()
        var pairs: [(String, Node?, Node?)] = []
        for (key, value) in a {
          let name = key.string ?? text(of: key)
          seen.insert(name)
          pairs.append((name, value, b[key]))
        }
        for (key, value) in b where !seen.contains(key.string ?? text(of: key)) {
          pairs.append((key.string ?? text(of: key), nil, value))
        }
        // Reversed, so the work list pops them in the spec's order.
        for (name, a, b) in pairs.reversed() { work.append((path.isEmpty ? name : "\(path).\(name)", a, b)) }
      case (.sequence(let a)?, .sequence(let b)?):
        for index in (0..<max(a.count, b.count)).reversed() {
          work.append(
            ("\(path)[\(index)]", index < a.count ? a[index] : nil, index < b.count ? b[index] : nil))
        }
      default:
        let (a, b) = (old.map(text(of:)), new.map(text(of:)))
        if a != b { changes.append(Change(path: path.isEmpty ? "(the spec)" : path, old: a, new: b)) }
      }
    }
    return SpecDiff(changes: changes)
  }

  /// A node as one line of YAML (flow style), cut to `shownLength`.
  private static func text(of node: Node) -> String {
    let full: String
    if case .scalar(let scalar) = node {
      full = scalar.string
    } else {
      let serialized = (try? Yams.serialize(node: node, width: -1)) ?? ""
      full = serialized.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
    return full.count > shownLength ? String(full.prefix(shownLength - 1)) + "…" : full
  }
}
