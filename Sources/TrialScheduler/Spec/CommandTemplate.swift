public import SearchStrategies

/// Expands the trial command's placeholders: `{lr}` is the trial's value of parameter `lr`,
/// `{tier.epochs}` the value of `epochs` in the trial's tier, `{{` and `}}` are literal braces.
/// An argument that names a conditional parameter inactive in the configuration is left out
/// whole, so `--momentum={momentum}` disappears when the optimizer has no momentum.
public enum CommandTemplate {
  public enum Piece: Sendable, Hashable {
    case literal(String)
    case parameter(String)
    case tierKey(String)
  }

  public struct SyntaxError: Error, Sendable, Hashable {
    public var message: String
  }

  /// Splits an argument into literal text and placeholders.
  public static func pieces(of argument: String) throws(SyntaxError) -> [Piece] {
    var pieces: [Piece] = []
    var literal = ""
    var index = argument.startIndex
    while index < argument.endIndex {
      let character = argument[index]
      let next = argument.index(after: index)
      if character == "}" {
        guard next < argument.endIndex, argument[next] == "}" else {
          throw SyntaxError(message: "unmatched '}' in \"\(argument)\"; write '}}' for a literal brace")
        }
        literal.append("}")
        index = argument.index(after: next)
        continue
      }
      guard character == "{" else {
        literal.append(character)
        index = next
        continue
      }
      if next < argument.endIndex, argument[next] == "{" {
        literal.append("{")
        index = argument.index(after: next)
        continue
      }
      guard let close = argument[next...].firstIndex(of: "}") else {
        throw SyntaxError(message: "unclosed '{' in \"\(argument)\"; write '{{' for a literal brace")
      }
      let name = String(argument[next..<close])
      guard isValidName(name) else {
        throw SyntaxError(
          message: "'{\(name)}' in \"\(argument)\" is not a placeholder: use {parameter} or {tier.key}, or '{{' for a literal brace"
        )
      }
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

  /// The argv of one trial. Arguments were checked when the spec was parsed, so a placeholder
  /// here always names a declared parameter or tier key.
  public static func expand(
    _ command: [String], configuration: Configuration, tierValues: [String: ParameterValue]
  ) -> [String] {
    command.compactMap { argument -> String? in
      guard let pieces = try? pieces(of: argument) else { return argument }
      var expanded = ""
      for piece in pieces {
        switch piece {
        case .literal(let text): expanded += text
        case .parameter(let name):
          guard let value = configuration[name] else { return nil }
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
