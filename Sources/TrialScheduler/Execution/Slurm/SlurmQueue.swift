import Foundation
import Logging

/// Watches every Slurm job this hpod follows, across its studies: one `squeue` call per poll
/// for all of them (one per cluster, when jobs go to several), `scontrol -o show job` for each
/// job that left the queue (its exit code and signal). Between polls the jobs' output files are read every `outputInterval` (a read
/// of a file costs the cluster nothing, a poll costs its controller a request), so metrics
/// arrive sooner than the poll interval. Polling runs while there are jobs to watch and stops
/// with the last one.
actor SlurmQueue {
  static let shared = SlurmQueue()

  private struct Watched {
    var trial: SlurmTrial
    var command: SlurmCommand
    var pollInterval: Duration
    /// When Slurm was first seen not to know the job: it is judged gone only when it still does
    /// not a poll later (a controller that just restarted is given that moment).
    var missingSince: ContinuousClock.Instant?
  }

  /// By the job's comment, unique to its trial (ids are not: a controller that lost its state
  /// gives them again, so two watched trials can have the same job id).
  private var watched: [String: Watched] = [:]
  private var polling = false
  private let logger = Logger(label: "hpod.slurm")

  func watch(_ trial: SlurmTrial, command: SlurmCommand) {
    watched[trial.comment] = Watched(trial: trial, command: command, pollInterval: trial.settings.pollInterval)
    guard !polling else { return }
    polling = true
    // Ends by itself once no job is left to watch.
    Task { await self.pollUntilIdle() }
  }

  static let outputInterval = Duration.milliseconds(200)
  /// How long a job must stay unknown to Slurm before it counts as gone.
  static let missingGrace = Duration.seconds(2)

  /// Clusters (by their slurm.conf) being polled now, and when each was last polled.
  private var inFlight: Set<String> = []
  private var lastPoll: [String: ContinuousClock.Instant] = [:]

  /// Reads the jobs' output every `outputInterval` and polls each cluster at its interval, on
  /// a task of its own: a controller that does not answer (each call then takes seconds) holds
  /// neither the output of its own jobs nor the other clusters' polls.
  private func pollUntilIdle() async {
    while !watched.isEmpty {
      for entry in watched.values { entry.trial.readOutput() }
      startDuePolls()
      try? await Task.sleep(for: Self.outputInterval)
    }
    polling = false
  }

  private func startDuePolls() {
    for entry in watched.values where entry.trial.isFinished { watched[entry.trial.comment] = nil }
    for (cluster, entries) in Dictionary(grouping: watched.values, by: \.command.cluster)
    where !inFlight.contains(cluster) {
      let interval = entries.map(\.pollInterval).min() ?? .seconds(2)
      if let last = lastPoll[cluster], ContinuousClock.now - last < interval { continue }
      inFlight.insert(cluster)
      let command = entries[0].command
      let keys = Set(entries.map(\.trial.comment))
      Task {
        await self.poll(command, keys: keys)
        await self.polled(cluster)
      }
    }
  }

  private func polled(_ cluster: String) {
    inFlight.remove(cluster)
    lastPoll[cluster] = .now
  }

  /// One `squeue` of one cluster, for the watched jobs `keys` (their comments) on it.
  private func poll(_ command: SlurmCommand, keys: Set<String>) async {
    let listed: [String: SlurmJobStatus]
    do {
      let result = try await command.run(
        "squeue", ["--me", "--noheader", "--states=all", "--format=\(SlurmJobStatus.squeueFormat)"])
      guard result.succeeded else {
        unreachable(result.message, keys: keys)
        return
      }
      listed = Dictionary(
        result.stdout.split(whereSeparator: \.isNewline).compactMap(SlurmJobStatus.init(squeueLine:)).map {
          ($0.jobId, $0)
        }, uniquingKeysWith: { first, _ in first })
    } catch {
      unreachable("\(error)", keys: keys)
      return
    }
    for (key, entry) in watched where keys.contains(key) {
      entry.trial.noteUnreachable(nil)
      let done: Bool
      if let status = listed[entry.trial.jobId], entry.trial.isOwn(status), !status.isFinished {
        watched[key]?.missingSince = nil
        done = await entry.trial.observe(status)
      } else {
        done = await settle(key, entry)
      }
      if done { watched[key] = nil }
    }
  }

  /// Slurm could not be asked: every job waits for its controller (they keep running on their
  /// nodes meanwhile), and their studies pause until it answers.
  private func unreachable(_ message: String, keys: Set<String>) {
    logger.warning("cannot ask Slurm about its jobs (\(message)); polled again")
    for (key, entry) in watched where keys.contains(key) {
      entry.trial.noteUnreachable(
        "following Slurm job \(entry.trial.jobId) failed: Slurm's controller does not answer (\(message)); retrying until \(SlurmSubmission.awaiting)"
      )
    }
  }

  /// A job that left the queue (or ended): its exit from `scontrol`; when Slurm no longer knows
  /// it (or its id now names another job), its exit marker decides (`SlurmTrial.gone`).
  private func settle(_ key: String, _ entry: Watched) async -> Bool {
    let id = entry.trial.jobId
    do {
      let result = try await entry.command.run("scontrol", ["-o", "show", "job", id])
      if result.succeeded, let line = result.stdout.split(whereSeparator: \.isNewline).first,
        let status = SlurmJobStatus(scontrolLine: String(line)), entry.trial.isOwn(status)
      {
        watched[key]?.missingSince = nil
        return await entry.trial.observe(status)
      }
      if result.succeeded || result.message.contains("Invalid job id") {
        guard let since = entry.missingSince else {
          watched[key]?.missingSince = .now
          return false
        }
        guard ContinuousClock.now - since >= Self.missingGrace else { return false }
        entry.trial.gone()
        return true
      }
      if SlurmSubmission.isOutage(result.message) {
        unreachable(result.message, keys: [key])
        return false
      }
      logger.warning("scontrol show job \(id) failed (\(result.message)); polled again")
    } catch {
      unreachable("\(error)", keys: [key])
    }
    return false
  }
}
