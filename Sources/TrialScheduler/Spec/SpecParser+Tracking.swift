import DidYouMean
import Foundation
import SearchStrategies
import TrackingBridge
import Yams

// The `tracking:` section: the MLflow experiment and server.
extension SpecParser {
  func parseTracking(_ node: Node?, studyName: String?) -> StudySpec.Tracking? {
    // Only a tracking server can be mirrored to; a local MLFLOW_TRACKING_URI (file:, sqlite:)
    // is the trials' own business.
    let environmentURI = environment["MLFLOW_TRACKING_URI"].flatMap { text in
      text.hasPrefix("http://") || text.hasPrefix("https://") ? text : nil
    }
    guard let node else { return StudySpec.Tracking(experiment: studyName ?? "hpod", mlflowURI: environmentURI) }
    guard let fields = reader.fields(node, "tracking", allowed: ["experiment", "mlflow"]) else { return nil }
    let experiment = reader.nonEmptyString(fields["experiment"], "tracking.experiment") ?? studyName ?? "hpod"
    var uri = environmentURI
    if let mlflow = fields["mlflow"],
      let mlflowFields = reader.fields(mlflow, "tracking.mlflow", allowed: ["uri"], required: ["uri"])
    {
      if let text = reader.nonEmptyString(mlflowFields["uri"], "tracking.mlflow.uri") {
        if let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil {
          uri = text
        } else {
          reader.report(
            at: mlflowFields["uri"], "tracking.mlflow.uri",
            "expected an http(s) URL such as http://127.0.0.1:5000, found \"\(text)\"")
        }
      }
    }
    return StudySpec.Tracking(experiment: experiment, mlflowURI: uri)
  }
}
