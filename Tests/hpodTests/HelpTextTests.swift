import Foundation
import Testing

@Suite("Help texts")
struct HelpTextTests {
  static let commands = [
    [], ["run"], ["validate"], ["models"], ["serve"], ["submit"], ["status"], ["watch"], ["trials"], ["best"],
    ["cancel"], ["pause"], ["resume"], ["logs"], ["export"], ["heatmap"], ["importance"], ["compare"], ["query"],
    ["tracking", "status"], ["tracking", "sync"], ["register"],
  ]

  @Test("every help text fits 80 columns and its prose wraps at word boundaries, not at the source's line breaks")
  func wrapping() async throws {
    for command in Self.commands {
      let (status, help) = try await HPODProcess.runProgram(
        HPODProcess.binary, command + ["--help"], environment: ["COLUMNS": "80"])
      #expect(status == 0, "\(command): \(help)")
      let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      for line in lines where !line.hasPrefix("USAGE:") {
        #expect(line.count <= 80, "hpod \(command.joined(separator: " ")): a line over 80 columns: \(line)")
      }
      // A prose paragraph (not indented) breaks only where the next word would not fit in the
      // 79 columns ArgumentParser fills: a short line followed by more of the same paragraph
      // is a hard break in the source.
      let paragraphs = help.components(separatedBy: "\n\n").map { $0.split(separator: "\n").map(String.init) }
      for paragraph in paragraphs where paragraph.count > 1 && !paragraph.contains(where: { $0.hasPrefix(" ") }) {
        for (line, next) in zip(paragraph, paragraph.dropFirst()) where !line.hasPrefix("USAGE:") {
          let firstWord = next.split(separator: " ").first.map(String.init) ?? ""
          #expect(
            line.count + 1 + firstWord.count > 79,
            "hpod \(command.joined(separator: " ")): '\(line)' ends early; '\(firstWord)' would have fit")
        }
      }
    }
  }

  @Test("the overview names a trial as the user types it: study and number")
  func overviewUsesTrialNumbers() async throws {
    let (_, help) = try await HPODProcess.runProgram(HPODProcess.binary, ["--help"], environment: [:])
    #expect(help.contains("hpod logs 3 7"), "\(help)")
    #expect(!help.contains("logs TRIAL"), "\(help)")
  }
}
