import ArgumentParser
import Foundation
import HPODAPI
import TrackingBridge
import TrialScheduler

#if canImport(Glibc)
  import Glibc
#endif

struct Submit: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Submit a study spec to the daemon and print its id.")

  @Argument(help: "The study spec (YAML).")
  var spec: String

  @Flag(help: "Follow the study live once submitted.")
  var watch = false

  @OptionGroup var options: ClientOptions

  func run() async throws {
    let url = URL(fileURLWithPath: spec).standardized
    guard let yaml = try? Data(contentsOf: url) else {
      throw ValidationError("cannot read \(spec)")
    }
    try await options.perform { client in
      let study: API.Study = try await client.post(
        "api/v1/studies", body: yaml,
        headers: [
          "X-HPOD-Spec-Name": spec, "X-HPOD-Base-Dir": url.deletingLastPathComponent().path,
          "Content-Type": "application/yaml",
        ])
      if options.json {
        try options.printJSON(study)
      } else {
        print("submitted study \(study.id) '\(study.name)'; follow it with: hpod watch \(study.id)")
      }
      if watch { try await Watch.follow(study.id, client: client, json: false) }
    }
  }
}

struct Status: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Show every study, or one in detail.")

  @Argument(help: "A study id.")
  var study: Int64?

  @OptionGroup var options: ClientOptions

  /// The local store read when no daemon answers.
  @OptionGroup var store: StoreOptions

  func run() async throws {
    try await options.read(home: store.hpodHome) { client in
      if let study {
        let detail: API.Study = try await client.get("api/v1/studies/\(study)")
        if options.json { return try options.printJSON(detail) }
        print(Self.describe(detail))
      } else {
        let list: API.StudyList = try await client.get("api/v1/studies")
        if options.json { return try options.printJSON(list) }
        guard !list.studies.isEmpty else { return print("No study yet: hpod submit study.yaml") }
        var rows = [["id", "name", "state", "quick tests", "best", "updated"]]
        for study in list.studies {
          let full = study.fullTrainings > 0 ? " +\(study.fullTrainings) full" : ""
          rows.append([
            String(study.id), study.name, study.state,
            "\(study.quickTests)/\(study.maxTrials.map(String.init) ?? "grid")\(full)",
            study.best.map(Trials.value) ?? "-", ISO8601DateFormatter().string(from: study.updatedAt),
          ])
        }
        Summary.align(rows).forEach { print($0) }
      }
    }
  }

  static func describe(_ study: API.Study) -> String {
    var lines = ["study \(study.id) '\(study.name)': \(study.state)\(study.stateReason.map { " (\($0))" } ?? "")"]
    lines.append(
      "  objective: \(study.objective.direction) \(study.objective.metric); \(study.algorithm ?? "?") search, \(study.maxTrials.map { "\($0) trials" } ?? "grid"), \(study.parallelism ?? 1) at a time"
    )
    let counts = study.counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
    lines.append(
      "  trials: \(counts.isEmpty ? "none yet" : counts.joined(separator: ", ")); quick tests \(study.quickTests), full trainings \(study.fullTrainings)"
    )
    if let best = study.best {
      lines.append(
        "  best: trial \(best.number) (\(best.tier)) \(study.objective.metric)=\(Trials.value(best)): \(ProgressView.params(HPODClient.json(best.params)))"
      )
    }
    return lines.joined(separator: "\n")
  }
}

struct Watch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Follow a study live (the same view as hpod run) until it finishes.")

  @Argument(help: "A study id.")
  var study: Int64

  @Flag(help: "Plain lines instead of the live view.")
  var plain = false

  @OptionGroup var options: ClientOptions

  /// The local store followed when no daemon answers.
  @OptionGroup var store: StoreOptions

  func run() async throws {
    let (study, json, plain) = (study, options.json, plain)
    try await options.read(home: store.hpodHome) { client in
      try await Self.follow(study, client: client, json: json, plain: plain)
    } local: { client in
      try await Self.followStore(study, client: client, json: json, plain: plain)
    }
  }

  static func follow(_ id: Int64, client: HPODClient, json: Bool, plain: Bool = false) async throws {
    let study: API.Study = try await client.get("api/v1/studies/\(id)")
    // A study of several objectives answers `best` with its front, which names the objectives
    // and constraints the view follows; any other answer (one objective) leaves the view as is.
    let front: API.Front? = try? await client.get("api/v1/studies/\(id)/best")
    let progress = ProgressView(
      header: .init(study: study, front: front), live: !plain && !json && isatty(STDOUT_FILENO) == 1)
    if !json {
      progress.note("watching study \(id) '\(study.name)' (\(study.state)); Ctrl-C stops watching, not the study")
      // Joining a running study: what it finished so far counts, so "new best" means new.
      let sofar = try await client.send("GET", "api/v1/studies/\(id)/trials", query: "sort=number")
      progress.seed(finished: try API.decoder.decode(API.TrialList.self, from: sofar).trials)
    }
    // A finished study's stream is its `study_finished` alone: JSON readers get that line.
    let finished = ["completed", "failed", "cancelled"].contains(study.state)
    if study.state == "interrupted" || (finished && !json) {
      if !json { print(Status.describe(study)) }
      return
    }
    try await client.events("api/v1/studies/\(id)/events") { event in
      if json {
        FileHandle.standardOutput.writeText(API.Event.jsonLine(type: event.type, data: event.data) + "\n")
      } else {
        progress.handle(event.body)
      }
      if case .studyFinished = event.body { return false }
      return true
    }
    progress.finish()
    if !json { print(Status.describe(try await client.get("api/v1/studies/\(id)"))) }
  }
}

struct Trials: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "List a study's trials, filtered and sorted.")

  @Argument(help: "A study id.")
  var study: Int64

  @Option(help: "Only trials in this state (completed, failed, pruned, running, ...).")
  var state: String?

  @Option(help: "Only this tier: quick_test or full_training.")
  var tier: String?

  @Option(help: "number, value (best first) or duration.")
  var sort = "number"

  @Option(help: "At most this many trials.")
  var limit: Int?

  @OptionGroup var options: ClientOptions

  /// The local store read when no daemon answers.
  @OptionGroup var store: StoreOptions

  func run() async throws {
    var query = ["sort=\(sort)"]
    if let state { query.append("state=\(state)") }
    if let tier { query.append("tier=\(tier)") }
    if let limit { query.append("limit=\(limit)") }
    let filters = query.joined(separator: "&")
    try await options.read(home: store.hpodHome) { client in
      let data = try await client.send("GET", "api/v1/studies/\(study)/trials", query: filters)
      let list = try API.decoder.decode(API.TrialList.self, from: data)
      if options.json { return try options.printJSON(list) }
      Self.table(
        list.trials.map(TrialRecord.init), runsOn: list.trials.map(\.executor),
        repeats: list.trials.map { $0.configurationValue.map(Self.describe) },
        totals: list.trials.map { trial in
          trial.totalDurationSeconds.flatMap { seconds in trial.attempt.map { (seconds, $0) } }
        }
      ).forEach { print($0) }
    }
  }

  /// Trials as a table: number, tier, state, value, duration, where it ran (when given),
  /// and the parameters of a completed trial or why another one ended.
  ///   - repeats: each trial's configuration value over its repeats ("0.91 ± 0.004 (n = 3)"),
  ///     shown with the repeat's index when any trial has one.
  ///   - totals: each trial's time across the attempts of its configuration, shown beside
  ///     its own for a re-run.
  static func table(
    _ trials: [TrialRecord], valueHeader: String = "value", values: [Double?]? = nil, runsOn: [String?]? = nil,
    repeats: [String?]? = nil, totals: [(seconds: Double, attempt: Int)?]? = nil
  ) -> [String] {
    let showRunsOn = runsOn?.contains { $0 != nil } == true
    let showRepeats = repeats?.contains { $0 != nil } == true
    var rows = [
      ["trial", "tier", "state", valueHeader, "duration"] + (showRepeats ? ["repeat", "configuration"] : [])
        + (showRunsOn ? ["runs on"] : []) + ["parameters / reason"]
    ]
    for (index, trial) in trials.enumerated() {
      let value = values.map { $0[index] } ?? trial.value
      var row = [
        String(trial.number), trial.tier.rawValue, trial.state.rawValue, value.map(ProgressView.format) ?? "-",
        trial.duration.map { String(format: "%.1fs", $0) } ?? "-",
      ]
      // A re-run resumed what the attempts before it trained: their time counts too.
      if let total = totals?[index], total.attempt > 1 {
        row[4] += String(format: " (%.1fs over %d attempts)", total.seconds, total.attempt)
      }
      if showRepeats { row += [String(trial.repeatIndex + 1), repeats?[index] ?? "-"] }
      if showRunsOn { row.append(runsOn?[index] ?? "-") }
      row.append(
        trial.state == .completed
          ? ProgressView.params(trial.paramsJSON) : (trial.reason ?? ProgressView.params(trial.paramsJSON)))
      rows.append(row)
    }
    return Summary.align(rows)
  }
}

extension Trials {
  /// "0.9132 ± 0.0041 (n = 3)".
  static func describe(_ value: API.ValueSummary) -> String {
    RepeatGroups.describe(mean: value.mean, deviation: value.std, count: value.count)
  }

  /// A trial's value as its study ranks it: its configuration's over repeats, else its own.
  static func value(_ trial: API.Trial) -> String {
    trial.configurationValue.map(describe) ?? trial.value.map(ProgressView.format) ?? "-"
  }
}

struct Best: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print a study's best trial (full trainings first), or its Pareto front with several objectives.")

  @Argument(help: "A study id.")
  var study: Int64

  @OptionGroup var options: ClientOptions

  /// The local store read when no daemon answers.
  @OptionGroup var store: StoreOptions

  func run() async throws {
    try await options.read(home: store.hpodHome) { client in
      let data = try await client.send("GET", "api/v1/studies/\(study)/best")
      if let front = try? API.decoder.decode(API.Front.self, from: data) {
        if options.json { return try options.printJSON(front) }
        return print(Self.describe(front))
      }
      let best = try API.decoder.decode(API.Trial.self, from: data)
      if options.json { return try options.printJSON(best) }
      let repeats = best.configurationValue.map { _ in " over its repeats" } ?? ""
      print("trial \(best.number) (\(best.tier)): value \(Trials.value(best))\(repeats)")
      print("  \(ProgressView.params(HPODClient.json(best.params)))")
    }
  }

  /// The front as a table: one row per member, its objectives first.
  static func describe(_ front: API.Front) -> String {
    let metrics = front.objectives.map(\.metric)
    let header = front.objectives.map { "\($0.metric) (\($0.direction == "maximize" ? "max" : "min"))" }
    var rows = [["trial"] + header + ["params"]]
    for member in front.front {
      rows.append(
        ["\(member.trial.number)"] + metrics.map { member.metrics[$0].map(ProgressView.format) ?? "-" }
          + [ProgressView.params(HPODClient.json(member.trial.params))])
    }
    var lines = [
      "Pareto front (\(front.tier), \(front.front.count) configuration(s))\(front.constraints.isEmpty ? "" : " meeting \(front.constraints.joined(separator: " and "))"):"
    ]
    lines += Summary.align(rows)
    if front.infeasible > 0 { lines.append("\(front.infeasible) more broke a constraint") }
    return lines.joined(separator: "\n")
  }
}

struct Logs: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the end of a trial's log.",
    discussion: "hpod logs 3 12: trial 12 of study 3, as hpod trials 3 lists it.")

  @Argument(help: "The study's id.")
  var study: Int64

  @Argument(help: "The trial's number in its study (as `hpod trials` shows it).")
  var number: Int

  @Flag(help: "stderr instead of stdout.")
  var stderr = false

  @Option(help: "How many lines.")
  var tail = 200

  @OptionGroup var options: ClientOptions

  /// The local store read when no daemon answers.
  @OptionGroup var store: StoreOptions

  func run() async throws {
    try await options.read(home: store.hpodHome) { client in
      let data = try await client.send(
        "GET", "api/v1/studies/\(study)/trials/\(number)/log",
        query: "stream=\(stderr ? "stderr" : "stdout")&tail=\(tail)")
      FileHandle.standardOutput.write(data)
    }
  }
}

struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Export every run of a study as CSV or JSON.")

  @Argument(help: "A study id.")
  var study: Int64

  @Option(help: "csv or json.")
  var format = "csv"

  @Option(name: .shortAndLong, help: "Write to this file instead of stdout.")
  var output: String?

  @OptionGroup var options: ClientOptions

  /// The local store read when no daemon answers.
  @OptionGroup var store: StoreOptions

  func validate() throws {
    guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json") }
  }

  func run() async throws {
    try await options.read(home: store.hpodHome) { client in
      let data = try await client.send("GET", "api/v1/studies/\(study)/export", query: "format=\(format)")
      if let output {
        try data.write(to: URL(fileURLWithPath: output))
        print("wrote \(output)")
      } else {
        FileHandle.standardOutput.write(data)
      }
    }
  }
}
