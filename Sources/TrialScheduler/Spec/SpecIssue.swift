/// One problem found in a spec, located so an editor can jump to it:
/// `study.yaml:12:5: parameters.lr.min: expected a number, found "abc"`.
public struct SpecIssue: Sendable, Hashable, Codable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int
  /// The key path, `parameters.lr.min`; empty for the document itself.
  public var path: String
  public var message: String

  public init(file: String, line: Int, column: Int, path: String, message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.path = path
    self.message = message
  }

  public var description: String {
    path.isEmpty ? "\(file):\(line):\(column): \(message)" : "\(file):\(line):\(column): \(path): \(message)"
  }
}

/// A spec that cannot be run, with every problem found in one pass.
public struct SpecValidationError: Error, Sendable, CustomStringConvertible {
  public var issues: [SpecIssue]

  public init(issues: [SpecIssue]) {
    self.issues = issues
  }

  public var description: String {
    let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
    return (["invalid study spec (\(count)):"] + issues.map { "  \($0)" }).joined(separator: "\n")
  }
}
