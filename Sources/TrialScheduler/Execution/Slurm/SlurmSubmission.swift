import Foundation

/// One trial's `sbatch`, made safe to try again: the comment that identifies its job is kept in
/// the trial's folder (`job.comment`) before the job is submitted, so that a submission tried
/// again after an answer that never came (the controller went away meanwhile) first looks for
/// the job the earlier one may have made, instead of running the trial twice.
///
/// A controller that does not answer is an outage, not the trial's fault: the error says so
/// (`TrialLaunchError.awaiting`) and the runner pauses the study and tries again.
struct SlurmSubmission {
  var directory: String
  var label: String
  var command: SlurmCommand

  var commentFile: String { "\(directory)/job.comment" }

  /// What sbatch or squeue say when the controller cannot be reached or is too busy to
  /// answer; anything else is a refusal of the job.
  static let outageMessages = [
    "Unable to contact slurm controller", "Socket timed out", "Zero Bytes were transmitted", "Connection refused",
    "Connection timed out", "Slurm backup controller in standby mode", "Transport endpoint is not connected",
    "Temporarily unable to accept", "Resource temporarily unavailable", "Communication connection failure",
    "Slurmctld not responding",
  ]

  static func isOutage(_ message: String) -> Bool {
    outageMessages.contains { message.range(of: $0, options: .caseInsensitive) != nil }
  }

  static let awaiting = "Slurm's controller answers"

  static func outage(_ what: String) -> TrialLaunchError {
    TrialLaunchError("Slurm's controller does not answer (\(what))", awaiting: awaiting)
  }

  /// A fresh comment, saved before the job is submitted.
  func newComment() throws(TrialLaunchError) -> String {
    let comment = "hpod \(label) \(UUID().uuidString.lowercased())"
    guard FileManager.default.createFile(atPath: commentFile, contents: Data(comment.utf8)) else {
      throw TrialLaunchError("cannot write \(commentFile)")
    }
    return comment
  }

  /// The job an earlier attempt submitted for this trial, when there was one and Slurm has it.
  func earlierJob() async throws(TrialLaunchError) -> (comment: String, jobId: String)? {
    guard let data = FileManager.default.contents(atPath: commentFile) else { return nil }
    let comment = String(decoding: data, as: UTF8.self)
    let result: SlurmCommand.Result
    do {
      result = try await command.run(
        "squeue",
        [
          "--me", "--noheader", "--states=all", "--name=\(label)", "--format=\(SlurmJobStatus.squeueFormat)",
        ])
    } catch {
      throw Self.outage("\(error)")
    }
    guard result.succeeded else {
      if Self.isOutage(result.message) { throw Self.outage(result.message) }
      throw TrialLaunchError("squeue failed while looking for the trial's earlier submission: \(result.message)")
    }
    let job = result.stdout.split(whereSeparator: \.isNewline).compactMap(SlurmJobStatus.init(squeueLine:))
      .first { $0.comment == comment }
    return job.map { (comment, $0.jobId) }
  }

  /// Submits the job; its id.
  func submit(_ arguments: [String], environment: [String: String]) async throws(TrialLaunchError) -> String {
    let result: SlurmCommand.Result
    do {
      result = try await command.run("sbatch", arguments, environment: environment)
    } catch let failure as SlurmCommand.Failure where failure.isTimeout {
      throw Self.outage(failure.description)
    } catch {
      throw TrialLaunchError("cannot submit the trial to Slurm: \(error)")
    }
    guard result.succeeded else {
      if Self.isOutage(result.message) { throw Self.outage(result.message) }
      throw TrialLaunchError("sbatch refused the trial: \(result.message)")
    }
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let output = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let jobId = output.split(separator: ";").first.map(String.init), Int(jobId) != nil else {
      throw TrialLaunchError("sbatch printed no job id (it printed \"\(output.prefix(200))\")")
    }
    return jobId
  }
}
