import ArgumentParser
import Foundation
import HPODAPI
import TrackingBridge
import TrialScheduler

// Commands that stop and start a study, or one of its trials, on the daemon.

struct Cancel: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Cancel a study: its trials are stopped.")

  @Argument(help: "A study id.")
  var study: Int64

  @OptionGroup var options: ClientOptions

  func run() async throws {
    try await options.act(on: study, "cancel") {
      "study \($0.id) '\($0.name)' is \($0.state); hpod resume \($0.id) runs it again"
    }
  }
}

struct Pause: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Pause a study, or one of its trials, until hpod resume continues it from its checkpoints.",
    discussion:
      "hpod pause 3: every trial of study 3 stops. hpod pause 3 12: trial 12 stops and its slot goes to the next trial."
  )

  @Argument(help: "A study id.")
  var study: Int64

  @Argument(help: "A trial's number in the study (as `hpod trials` shows it): pause that trial only.")
  var number: Int?

  @OptionGroup var options: ClientOptions

  func run() async throws {
    if let number { return try await options.act(on: study, trial: number, "pause") }
    try await options.act(on: study, "pause") {
      "study \($0.id) '\($0.name)' is \($0.state) (paused); hpod resume \($0.id) continues it"
    }
  }
}

struct Resume: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run an interrupted, cancelled or failed study again (finished trials are kept), or a paused trial.")

  @Argument(help: "A study id.")
  var study: Int64

  @Argument(help: "A paused trial's number: resume that trial from its last checkpoint.")
  var number: Int?

  @OptionGroup var options: ClientOptions

  func run() async throws {
    if let number { return try await options.act(on: study, trial: number, "resume") }
    try await options.act(on: study, "resume") { "study \($0.id) '\($0.name)' is \($0.state)" }
  }
}
