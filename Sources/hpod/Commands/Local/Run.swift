import ArgumentParser
import Foundation
import HPODAPI
import Logging
import SearchStrategies
import TrackingBridge
import TrialScheduler

#if canImport(Glibc)
  import Glibc
#endif

struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a study here, without a server, with live progress.",
    discussion: """
      Running the same spec again resumes its study where it stopped — interrupted, failed \
      (once its cause is fixed) or cancelled: finished trials are kept, interrupted ones run \
      again. A spec edited without changing its parameters, objectives or \
      constraints continues the study (a larger search.max_trials runs more trials; new \
      registration thresholds judge the runs it has) and says what changed; an edit to those is \
      refused with the difference. Ctrl-C (or a closed terminal) stops the running trials \
      cleanly (a second Ctrl-C kills them at once) and saves the study for later.

      A study whose trials cannot work stops by itself (trial.fail_fast): a trial that cannot \
      start before any completed, the first 3 trials all failed, or the last 5 failed the same \
      way.

      Exit codes: 0 the study completed with at least one completed trial; 2 the spec is \
      invalid, or changes what the trials of the study of its name measure; 3 the study failed, or ended without a completed trial; 75 another process \
      drives the study; 130 interrupted (run it again to resume).
      """)

  @Argument(help: "The study spec (YAML).")
  var spec: String

  @Flag(help: "Start a new study even if one with this name exists.")
  var new = false

  @Flag(help: "Plain progress lines instead of the live view (the default when stdout is not a terminal).")
  var plain = false

  @Flag(
    help:
      "Print the study's events as JSON lines on stdout (those of hpod watch --json, ending with study_finished) and errors as JSON; notes go to stderr."
  )
  var json = false

  @Flag(name: .shortAndLong, help: "Log what the scheduler decides.")
  var verbose = false

  @OptionGroup var store: StoreOptions
  @OptionGroup var placement: PlacementOptions

  func run() async throws {
    // A reader of the output that goes away (`hpod run study.yaml | head`) loses the rest of
    // the output, not the study: writes to it fail quietly (FileHandle.writeText).
    signal(SIGPIPE, SIG_IGN)
    let (studySpec, yaml): (StudySpec, String)
    do {
      (studySpec, yaml) = try StudySpec.load(path: spec)
    } catch {
      throw CommandFailure(error)
    }
    guard !studySpec.isAskAndTell else {
      throw CommandFailure(
        "\(spec) has no `trial` section, so hpod cannot run its trials: add `trial: {command: [...]}`, or submit it to `hpod serve` and drive it with ask and tell (docs/API.md)",
        exitCode: ExitCodes.invalidSpec)
    }
    let strategy: any SearchStrategy
    do { strategy = try studySpec.makeStrategy() } catch {
      throw CommandFailure("\(error)", exitCode: ExitCodes.invalidSpec)
    }
    let home = store.hpodHome
    let lock = try StudyLock(path: home.lockPath(studyName: studySpec.name))
    defer { lock.release() }
    let database = try AppDatabase.open(at: home.databasePath)

    let study: StudyRecord
    let session: StudySession.Start
    do {
      session = try StudySession.start(
        spec: studySpec, yaml: yaml, path: URL(fileURLWithPath: spec).standardized.path, database: database, fresh: new)
    } catch let conflict as StudySession.Conflict {
      throw CommandFailure("\(conflict)", exitCode: ExitCodes.invalidSpec)
    }
    // With --json, stdout carries the events alone; what is said to the user goes to stderr.
    let sayTo = json ? FileHandle.standardError : FileHandle.standardOutput
    func say(_ text: String) { sayTo.writeText(text + "\n") }
    switch session {
    case .new(let created): study = created
    case .resume(let existing):
      study = existing
      if existing.state == .failed || existing.state == .cancelled {
        say(
          "Study '\(existing.name)' (id \(existing.id!)) \(existing.state.rawValue)\(existing.stateReason.map { " (\($0))" } ?? ""); running it again from where it stopped: finished trials are kept. Pass --new to start over.\n"
        )
      }
    case .continued(let existing, let changes):
      study = existing
      say(try Self.continuing(existing, changes: changes, database: database))
    case .replacing(let created, let previous):
      study = created
      say(
        "Study '\(previous.name)' (id \(previous.id!)) ended \(previous.state.rawValue); the edited spec starts a new study (id \(created.id!)). The old one's trials stay: hpod trials \(previous.id!).\n"
      )
    case .alreadyFinished(let finished):
      let trials = try database.trials(studyId: finished.id!)
      say(
        "Study '\(finished.name)' (id \(finished.id!)) already \(finished.state.rawValue); raise search.max_trials in the spec to continue it, or pass --new to start over.\n"
      )
      if json {
        let summary = try database.summary(
          studyId: finished.id!, higherIsBetter: studySpec.objective.direction == .maximize)
        return Self.emit(.studyFinished(finished, summary: summary), studyId: finished.id!)
      }
      print(try Summary.load(spec: studySpec, study: finished, trials: trials, home: home, database: database).render())
      return
    }

    let live = !plain && !json && isatty(STDOUT_FILENO) == 1
    let progress = ProgressView(spec: studySpec, live: live, notes: json ? .standardError : .standardOutput)
    var logger = Logger(label: "hpod")
    logger.logLevel = verbose ? .debug : .warning
    if live { logger.logLevel = verbose ? .debug : .critical }

    // Without --new, the same command finds the study again; with it, the same command would
    // start yet another one.
    let resumeHint = new ? "run `hpod run \(spec)` (without --new) to resume" : "run the same command to resume"
    let stopSignal = StopSignal()
    let interrupts = InterruptHandler { signal, count in
      if signal == SIGHUP {
        // The terminal closed: nobody is left to press Ctrl-C twice, so the trials get their
        // grace period and the study is saved.
        stopSignal.stop(reason: "interrupted: its terminal closed (SIGHUP); \(resumeHint)")
      } else if count == 1 {
        progress.note("stopping: waiting for running trials to stop (Ctrl-C again to kill them now)")
        stopSignal.stop(reason: "interrupted by the user (Ctrl-C); \(resumeHint)")
      } else {
        progress.note("killing running trials")
        stopSignal.force(reason: "interrupted by the user (Ctrl-C twice); \(resumeHint)")
      }
    }
    defer { interrupts.cancel() }

    let mirror = try TrackingMirror.make(spec: studySpec, database: database, home: home, logger: logger)
    let pool = placement.makePool()
    let runLogger = logger
    // Without an MLflow server to mirror to, the trials' own mlflow calls go to hpod's MLflow
    // API, served on a loopback port while the study runs.
    let runStudy: @Sendable (EmbeddedTracking?) async throws -> StudyRecord = { embedded in
      let sinks = TrackingSinks(database: database, mirror: mirror, embedded: embedded)
      let runner = StudyRunner(
        spec: studySpec, database: database, home: home, strategy: strategy, logger: runLogger, resources: pool,
        tracking: sinks.sink(for: studySpec),
        onEvent: { [json] event in json ? Self.emit(event, studyId: study.id!) : progress.handle(event) })
      return try await TrackingMirror.draining(mirror, studyId: study.id!, database: database) {
        let final = try await runner.run(study, stopSignal: stopSignal)
        progress.finish()
        return final
      }
    }
    let final: StudyRecord
    do {
      if studySpec.tracking.mlflowURI == nil {
        final = try await EmbeddedTrackingServer.serving(database: database, home: home, mirror: mirror, logger: logger)
        {
          try await runStudy($0)
        }
      } else {
        final = try await runStudy(nil)
      }
    } catch let held as StudyLease.Held {
      progress.finish()
      throw CommandFailure(
        "\(held). Follow it with `hpod watch \(held.studyId)` (or `hpod status \(held.studyId)`); to run it here, stop that process first.",
        exitCode: ExitCodes.studyBusy)
    }
    let trials = try database.trials(studyId: study.id!)
    if !json {
      print(try Summary.load(spec: studySpec, study: final, trials: trials, home: home, database: database).render())
    }
    switch final.state {
    case .failed: throw ExitCode(ExitCodes.studyFailed)
    case .interrupted: throw ExitCode(ExitCodes.interrupted)
    case .completed where !trials.contains(where: { $0.state == .completed }):
      // A study that spent its budget without one result has not succeeded.
      throw CommandFailure("the study ended without a completed trial", exitCode: ExitCodes.studyFailed)
    default: return
    }
  }

  /// One scheduler event as a JSON line on stdout, written at once (a reader follows it live).
  static func emit(_ event: StudyEvent, studyId: Int64) {
    FileHandle.standardOutput.writeText(API.Event(event, studyId: studyId).jsonLine + "\n")
  }

  /// The lines that say a study goes on under an edited spec: what carried over, what changed.
  static func continuing(_ study: StudyRecord, changes: [SpecDiff.Change], database: AppDatabase) throws -> String {
    let trials = try database.trials(studyId: study.id!)
    let counts = Dictionary(grouping: trials, by: \.state).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
    return
      ([
        "Continuing study '\(study.name)' (id \(study.id!)) under the edited spec: \(trials.count) trial(s) carried over"
          + (counts.isEmpty ? "." : " (\(counts.joined(separator: ", "))).")
          + " Changed:"
      ] + SpecDiff.lines(changes) + [""]).joined(separator: "\n")
  }
}
