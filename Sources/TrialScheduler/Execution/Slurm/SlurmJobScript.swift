/// The batch script of one trial's job. The trial's command comes as the script's arguments
/// and runs as given (no shell reads or splits it), in the foreground, so it keeps the
/// signal dispositions it would have had. Around it the script
///
/// - passes the trial's stdout and stderr through awk, which keeps the first `logLimit` bytes
///   of each in stdout.log and stderr.log (`trial.log_limit`, as for a local trial; what is
///   cut is counted in a note at the end) and copies every report line, uncapped, to
///   reports.log, which hpod reads for the trial's metrics;
/// - writes the trial's exit status to exit.status (`<job id> <status>`), which hpod reads
///   when Slurm no longer knows the job (its controller lost it, or it ended more than
///   MinJobAge ago with accounting off).
///
/// The filters ignore SIGTERM (`scancel --full` signals every process of the job), so nothing
/// a trial prints while it stops is lost; they end when the trial closes its output. The
/// shell's own SIGTERM handler keeps it alive until the trial ended; it then exits as the
/// trial did (re-raising the trial's signal), so Slurm's ExitCode is the trial's.
struct SlurmJobScript {
  var label: String
  var directory: String
  var logLimit: Int
  var reportPrefix: String

  var reportsPath: String { "\(directory)/reports.log" }
  var exitMarkerPath: String { "\(directory)/exit.status" }
  var path: String { "\(directory)/job.sh" }

  /// The awk program: `limit` bytes of the input go to stdout; lines starting with `prefix`
  /// (when it is not empty) are appended to the file `reports` as they come.
  static let filter = """
    {
      line = $0 "\\n"
      if (prefix != "" && index($0, prefix) == 1) { print $0 >> reports; fflush(reports) }
      n = length(line)
      if (written >= limit) { dropped += n; next }
      if (n > limit - written) { dropped += n - (limit - written); line = substr(line, 1, limit - written) }
      printf "%s", line
      written += length(line)
      fflush()
    }
    END { if (dropped > 0) printf "\\n[hpod: log capped at %d bytes; %d more bytes were dropped]\\n", limit, dropped }
    """

  var text: String {
    let dir = Self.quote(directory)
    return """
      #!/bin/sh
      # \(label), submitted by hpod. The trial's command comes as this script's arguments and
      # runs as given: no shell reads or splits it. Its output passes through awk, which keeps
      # the first \(logLimit) bytes of each log (trial.log_limit) and copies its report lines to
      # reports.log; its exit status goes to exit.status, read by hpod if Slurm forgets the job.
      dir=\(dir)
      filter=\(Self.quote(Self.filter))
      # mawk reads a pipe in blocks unless told to read it line by line.
      case $(awk -W version 2>&1 </dev/null) in mawk*) interactive='-W interactive' ;; *) interactive= ;; esac
      rm -f "$dir/exit.status" "$dir/reports.log" "$dir/.stdout.fifo" "$dir/.stderr.fifo"
      mkfifo "$dir/.stdout.fifo" "$dir/.stderr.fifo" || exit 125
      (trap '' TERM INT; LC_ALL=C exec awk $interactive -v limit=\(logLimit) -v reports="$dir/reports.log" \\
        -v prefix=\(Self.quote(reportPrefix)) "$filter" <"$dir/.stdout.fifo") &
      out=$!
      (trap '' TERM INT; LC_ALL=C exec awk $interactive -v limit=\(logLimit) -v reports=/dev/null -v prefix= \\
        "$filter" <"$dir/.stderr.fifo" >&2) &
      err=$!
      # A handler, not an ignored signal (which the trial would inherit).
      trap : TERM INT
      "$@" >"$dir/.stdout.fifo" 2>"$dir/.stderr.fifo"
      status=$?
      # The filters end when the trial's output closes; a process the trial left behind
      # holding it open does not hold the job: they are ended 5 s later.
      (trap 'kill $timer 2>/dev/null; exit 0' TERM; sleep 5 & timer=$!; wait $timer; kill -KILL $out $err 2>/dev/null) &
      guard=$!
      wait $out; wait $err
      kill $guard 2>/dev/null
      rm -f "$dir/.stdout.fifo" "$dir/.stderr.fifo"
      echo "$SLURM_JOB_ID $status" >"$dir/exit.status.tmp" && mv "$dir/exit.status.tmp" "$dir/exit.status"
      if [ "$status" -gt 128 ] && [ "$status" -lt 144 ]; then
        trap - TERM INT
        kill -$((status - 128)) $$
      fi
      exit $status

      """
  }

  /// `text` in single quotes for sh.
  static func quote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
  }
}

/// What a job's exit marker says: the job it is of and the trial's exit status as its shell
/// saw it (128 + N for a trial killed by signal N).
struct SlurmExitMarker: Equatable {
  var jobId: String
  var status: Int

  init?(text: String) {
    let words = text.split(whereSeparator: \.isWhitespace)
    guard words.count == 2, let status = Int(words[1]), (0...255).contains(status) else { return nil }
    jobId = String(words[0])
    self.status = status
  }

  var exit: TrialExit {
    status > 128 && status < 144 ? .signalled(signal: status - 128) : .exited(code: status)
  }
}
