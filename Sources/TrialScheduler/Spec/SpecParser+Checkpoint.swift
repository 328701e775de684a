import DidYouMean
import Yams

// The `checkpoint:` section: how many reported checkpoints a trial keeps, when folders go,
// and the names of checkpoint files found without a report.
extension SpecParser {
  func parseCheckpoint(_ node: Node) -> StudySpec.Checkpoint? {
    guard let fields = reader.fields(node, "checkpoint", allowed: ["keep", "free", "files"]) else { return nil }
    var checkpoint = StudySpec.Checkpoint()
    if let keep = fields["keep"] {
      guard let count = reader.int(keep, "checkpoint.keep", atLeast: 1, atMost: 1_000_000) else { return nil }
      checkpoint.keep = count
    }
    if let node = fields["free"] {
      guard let text = reader.string(node, "checkpoint.free") else { return nil }
      let choices = StudySpec.Checkpoint.Free.allCases.map(\.rawValue)
      guard let free = StudySpec.Checkpoint.Free(rawValue: text) else {
        var message = "expected one of \(choices.joined(separator: ", ")), found \"\(text)\""
        if let near = DidYouMean.nearest(to: text, in: choices) { message += "; did you mean '\(near)'?" }
        reader.report(at: node, "checkpoint.free", message)
        return nil
      }
      checkpoint.free = free
    }
    if let node = fields["files"] {
      guard let text = reader.string(node, "checkpoint.files") else { return nil }
      guard let files = CheckpointFiles(pattern: text) else {
        reader.report(
          at: node, "checkpoint.files",
          "expected a file name with one {step} where the step goes (\"epoch-{step}.pt\"), found \"\(text)\"")
        return nil
      }
      checkpoint.files = files
    }
    return checkpoint
  }
}
