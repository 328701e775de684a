import ArgumentParser
import HPODAPI

@main
struct HPOD: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hpod",
    abstract: "Hyperparameter optimization: search a space, run every trial as a process, track every run.",
    discussion: """
      Write a study in YAML (space, objective, budget, trial command) and run it:

        hpod validate study.yaml   check a spec and list every problem
        hpod run study.yaml        run it here, with live progress; run again to
                                   resume or, with a larger budget, continue it
        hpod trials ID             its trials; also status, best ID, logs ID N,
                                   export ID, compare ID N M, importance ID
        hpod models                the models registered by studies
        hpod query "which run had the highest f1"

      Or run the daemon and talk to it (--server, or HPOD_SERVER); the same read \
      commands ask it first:

        hpod serve &               the daemon: HTTP API on 127.0.0.1:8765
        hpod submit study.yaml     submit a study; prints its id
        hpod watch ID              follow it live
        hpod cancel ID | pause ID | resume ID

      A trial is named by its study and its number in that study (trial 7 of \
      study 3: hpod logs 3 7), the same in the dashboard and in MLflow.

      With tracking.mlflow.uri (or MLFLOW_TRACKING_URI) every trial is also an \
      MLflow run:

        hpod tracking status       what is mirrored, and what waits to be sent
        hpod tracking sync         send it now

      --json prints JSON (errors too) on every command that answers.

      State lives in $HPOD_HOME (default ~/.hpod).
      """,
    version: "0.1.0",
    subcommands: [
      Run.self, Validate.self, Models.self, Serve.self, Submit.self, Status.self, Watch.self, Trials.self, Best.self,
      Cancel.self, Pause.self, Resume.self, Logs.self, Export.self, HeatmapCommand.self, ImportanceCommand.self,
      CompareCommand.self, QueryCommand.self, TrackingCommand.self, RegisterCommand.self, NoteCommand.self,
    ]
  )
}
