import Foundation
import Logging

/// Watches every Slurm job this hpod follows, across its studies: one `squeue` call per poll
/// for all of them, `scontrol -o show job` for each job that left the queue (its exit code
/// and signal). Between polls the jobs' output files are read every `outputInterval` (a read
/// of a file costs the cluster nothing, a poll costs its controller a request), so metrics
/// arrive sooner than the poll interval. Polling runs while there are jobs to watch and stops
/// with the last one.
actor SlurmQueue {
  static let shared = SlurmQueue()

  private struct Watched {
    var trial: SlurmTrial
    var command: SlurmCommand
    var pollInterval: Duration
  }

  private var watched: [String: Watched] = [:]
  private var polling = false
  private let logger = Logger(label: "hpod.slurm")

  func watch(_ trial: SlurmTrial, command: SlurmCommand) {
    watched[trial.jobId] = Watched(trial: trial, command: command, pollInterval: trial.settings.pollInterval)
    guard !polling else { return }
    polling = true
    // Ends by itself once no job is left to watch.
    Task { await self.pollUntilIdle() }
  }

  static let outputInterval = Duration.milliseconds(200)

  private func pollUntilIdle() async {
    var lastPoll: ContinuousClock.Instant?
    while !watched.isEmpty {
      let interval = watched.values.map(\.pollInterval).min() ?? .seconds(2)
      if let lastPoll, ContinuousClock.now - lastPoll < interval {
        for entry in watched.values { entry.trial.readOutput() }
      } else {
        await pollOnce()
        lastPoll = .now
      }
      try? await Task.sleep(for: min(interval, Self.outputInterval))
    }
    polling = false
  }

  /// One round: the queue's view of every watched job, handed to its trial.
  func pollOnce() async {
    // Jobs detached (or finished some other way) since the last round are dropped.
    for (id, entry) in watched where entry.trial.isFinished { watched[id] = nil }
    guard let command = watched.values.first?.command else { return }
    let listed: [String: SlurmJobStatus]
    do {
      let result = try await command.run(
        "squeue", ["--me", "--noheader", "--states=all", "--format=\(SlurmJobStatus.squeueFormat)"])
      guard result.succeeded else {
        logger.warning("squeue failed (\(result.message)); the jobs are polled again")
        return
      }
      listed = Dictionary(
        result.stdout.split(whereSeparator: \.isNewline).compactMap(SlurmJobStatus.init(squeueLine:)).map {
          ($0.jobId, $0)
        }, uniquingKeysWith: { first, _ in first })
    } catch {
      logger.warning("cannot ask Slurm about its jobs: \(error); the jobs are polled again")
      return
    }
    for (id, entry) in watched {
      let done: Bool
      if let status = listed[id], !status.isFinished {
        done = await entry.trial.observe(status)
      } else {
        done = await settle(entry)
      }
      if done { watched[id] = nil }
    }
  }

  /// A job that left the queue (or ended): its exit from `scontrol`, or lost when Slurm no
  /// longer knows it (it ended more than MinJobAge ago and no accounting keeps it).
  private func settle(_ entry: Watched) async -> Bool {
    let id = entry.trial.jobId
    do {
      let result = try await entry.command.run("scontrol", ["-o", "show", "job", id])
      if result.succeeded, let line = result.stdout.split(whereSeparator: \.isNewline).first,
        let status = SlurmJobStatus(scontrolLine: String(line))
      {
        return await entry.trial.observe(status)
      }
      if result.message.contains("Invalid job id") {
        entry.trial.lose(
          "Slurm job \(id) is gone and Slurm kept no record of how it ended (it ended more than MinJobAge ago, and accounting is off)"
        )
        return true
      }
      logger.warning("scontrol show job \(id) failed (\(result.message)); polled again")
    } catch {
      logger.warning("cannot ask Slurm about job \(id): \(error); polled again")
    }
    return false
  }
}
