import ArgumentParser
import HPODAPI

@main
struct HPOD: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hpod",
    abstract: "Hyperparameter optimization: search a space, run every trial as a process, track every run.",
    discussion: """
      Write a study as YAML (search space, objective, budget, trial command) and run it:

        hpod validate study.yaml     check a spec and list every problem
        hpod run study.yaml          run it here, with live progress; run again to resume
        hpod models                  the models registered by studies
        hpod query "which run had the highest f1"   a question about a study, in plain words

      Or run the daemon and talk to it (--server, or HPOD_SERVER):

        hpod serve &                 the daemon: HTTP API on 127.0.0.1:8765
        hpod submit study.yaml       submit a study; prints its id
        hpod watch ID                follow it live
        hpod status | trials ID | best ID | logs TRIAL | export ID | cancel ID | resume ID

      With tracking.mlflow.uri (or MLFLOW_TRACKING_URI) every trial is also an MLflow run:

        hpod tracking status         what is mirrored, and what waits to be sent
        hpod tracking sync           send it now

      State lives in $HPOD_HOME (default ~/.hpod).
      """,
    version: "0.1.0",
    subcommands: [
      Run.self, Validate.self, Models.self, Serve.self, Submit.self, Status.self, Watch.self, Trials.self, Best.self,
      Cancel.self, Resume.self, Logs.self, Export.self, HeatmapCommand.self, ImportanceCommand.self,
      CompareCommand.self, QueryCommand.self, TrackingCommand.self, RegisterCommand.self,
    ]
  )
}
