import ArgumentParser

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

      State lives in $HPOD_HOME (default ~/.hpod).
      """,
    version: "0.1.0",
    subcommands: [Run.self, Validate.self, Models.self]
  )
}
