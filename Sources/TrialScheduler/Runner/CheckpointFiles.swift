import Foundation

/// Checkpoints a trial saves as files without reporting them (`checkpoint: {files:
/// "epoch-{step}.pt"}`): a file of the trial's checkpoint folder whose name fits the pattern
/// is a checkpoint at the step its name carries. It is recorded once hpod has stored that
/// step of the trial's history (a file saved ahead of its step's line waits for the line), so
/// a resumed attempt never continues from a step whose metrics were not kept.
public struct CheckpointFiles: Sendable, Hashable {
  public let prefix: String
  public let suffix: String

  /// The pattern's text around its one `{step}`; nil when it has none, more than one, a
  /// folder separator, or nothing but the placeholder.
  public init?(pattern: String) {
    let parts = pattern.components(separatedBy: "{step}")
    guard parts.count == 2, !pattern.contains("/"), pattern != "{step}", pattern.utf8.count <= 255 else { return nil }
    prefix = parts[0]
    suffix = parts[1]
  }

  public var pattern: String { "\(prefix){step}\(suffix)" }

  /// The step a file's name carries, or nil when the name does not fit the pattern (the step
  /// is 1 to 12 digits).
  public func step(of name: String) -> Int? {
    guard name.count > prefix.count + suffix.count, name.hasPrefix(prefix), name.hasSuffix(suffix) else {
      return nil
    }
    let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
    guard (1...12).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(digits)
  }

  /// The checkpoints among `names` (a folder's entries) at steps after `floor` and up to
  /// `stored`, the last step whose metrics are kept, leaving out those in `recorded`; in step
  /// order.
  public func found(in names: [String], after floor: Int, upTo stored: Int, recorded: Set<String>)
    -> [(name: String, step: Int)]
  {
    names.compactMap { name in
      guard !recorded.contains(name), let step = step(of: name), step > floor, step <= stored else { return nil }
      return (name, step)
    }.sorted { ($0.step, $0.name) < ($1.step, $1.name) }
  }
}
