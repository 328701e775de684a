public import SearchStrategies
public import StudyModel

/// Expands the trial command's placeholders: `{lr}` is the trial's value of parameter `lr`,
/// `{tier.epochs}` the value of `epochs` in the trial's tier, `{{` and `}}` are literal braces, and braces around anything
/// else (inline code, JSON) are kept as they are.
/// An argument that names a conditional parameter inactive in the configuration is left out
/// whole, so `--momentum={momentum}` disappears when the optimizer has no momentum.
public enum CommandTemplate {
  public enum Piece: Sendable, Hashable {
    case literal(String)
    case parameter(String)
    case tierKey(String)
  }

  /// Splits an argument into literal text and placeholders. Only `{name}` with a name of
  /// letters, digits, `_`, `-` and `.` is a placeholder; other braces (inline code, JSON) are
  /// literal text.
  public static func pieces(of argument: String) -> [Piece] {
    var pieces: [Piece] = []
    var literal = ""
    var index = argument.startIndex
    while index < argument.endIndex {
      let character = argument[index]
      let next = argument.index(after: index)
      let doubled = next < argument.endIndex && argument[next] == character
      if (character == "{" || character == "}") && doubled {
        literal.append(character)
        index = argument.index(after: next)
        continue
      }
      guard character == "{", let close = argument[next...].firstIndex(of: "}"),
        isValidName(String(argument[next..<close]))
      else {
        literal.append(character)
        index = next
        continue
      }
      let name = String(argument[next..<close])
      if !literal.isEmpty { pieces.append(.literal(literal)) }
      literal = ""
      pieces.append(name.hasPrefix("tier.") ? .tierKey(String(name.dropFirst(5))) : .parameter(name))
      index = argument.index(after: close)
    }
    if !literal.isEmpty { pieces.append(.literal(literal)) }
    return pieces
  }

  static func isValidName(_ name: String) -> Bool {
    guard let first = name.first, first.isLetter || first == "_" else { return false }
    return name.allSatisfy { $0.isLetter || $0.isNumber || "_.-".contains($0) }
  }

  /// Placeholders every trial fills beside its parameters: `{seed}`, `{repeat}` and
  /// `{checkpoint_dir}` (a parameter of the same name takes precedence).
  public static let trialKeys: Set<String> = ["seed", "repeat", "checkpoint_dir"]

  /// The argv of one trial. Arguments were checked when the spec was parsed, so a placeholder
  /// here always names a declared parameter, a tier key or one of `trialKeys`.
  public static func expand(
    _ command: [String], configuration: Configuration, tierValues: [String: ParameterValue],
    trialValues: [String: ParameterValue] = [:]
  ) -> [String] {
    command.compactMap { argument -> String? in
      var expanded = ""
      for piece in pieces(of: argument) {
        switch piece {
        case .literal(let text): expanded += text
        case .parameter(let name):
          guard let value = configuration[name] ?? trialValues[name] else { return nil }
          expanded += value.description
        case .tierKey(let key):
          guard let value = tierValues[key] else { return nil }
          expanded += value.description
        }
      }
      return expanded
    }
  }
}
