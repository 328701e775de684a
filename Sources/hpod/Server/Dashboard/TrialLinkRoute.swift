import Hummingbird
import TrackingBridge

/// `/hpod-trials/<trial id>/`, a trial's MLFLOW_TRACKING_URI: the "View run" link the mlflow
/// client prints in a trial (`<tracking URI>/#/experiments/…/runs/…`) opens the trial's run page.
enum TrialLinkRoute {
  static func add(to router: Router<AppRequestContext>, database: AppDatabase) {
    router.get("hpod-trials/{hpod_trial}") { _, context -> Response in
      guard let id = context.parameters.get("hpod_trial").flatMap({ Int64($0) }),
        let trial = try database.trial(id: id)
      else {
        throw HTTPError(.notFound, message: "No trial with that id")
      }
      return Response(status: .seeOther, headers: [.location: "/studies/\(trial.studyId)/runs/\(trial.number)"])
    }
  }
}
