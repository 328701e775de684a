import TrackingBridge

// MLflow's JSON shapes for logged models and a run's inputs and outputs. As protobuf's JSON
// writes them, empty lists are left out.
extension MLflowJSON {
  static func loggedModel(_ model: TrackingLoggedModel) -> [String: Any] {
    var info: [String: Any] = [
      "model_id": model.id, "experiment_id": String(model.experimentId), "name": model.name,
      "creation_timestamp_ms": model.creationTime, "last_updated_timestamp_ms": model.lastUpdateTime,
      "artifact_uri": model.artifactURI, "status": model.status.protoName, "model_type": model.modelType,
      "source_run_id": model.sourceRunId,
    ]
    if !model.tags.isEmpty { info["tags"] = keyValues(model.tags) }
    if let message = model.statusMessage { info["status_message"] = message }
    var data: [String: Any] = [:]
    if !model.params.isEmpty { data["params"] = keyValues(model.params) }
    if !model.metrics.isEmpty {
      data["metrics"] = model.metrics.map { point -> [String: Any] in
        var metric = self.metric(point.metric)
        metric["model_id"] = model.id
        metric["run_id"] = point.runId
        if let name = point.datasetName { metric["dataset_name"] = name }
        if let digest = point.datasetDigest { metric["dataset_digest"] = digest }
        return metric
      }
    }
    return ["info": info, "data": data]
  }

  static func inputs(_ io: RunInputsOutputs) -> [String: Any] {
    var inputs: [String: Any] = [:]
    if !io.datasets.isEmpty {
      inputs["dataset_inputs"] = io.datasets.map { input -> [String: Any] in
        var dataset: [String: Any] = [
          "name": input.dataset.name, "digest": input.dataset.digest, "source_type": input.dataset.sourceType,
          "source": input.dataset.source,
        ]
        if let schema = input.dataset.schema { dataset["schema"] = schema }
        if let profile = input.dataset.profile { dataset["profile"] = profile }
        var answer: [String: Any] = ["dataset": dataset]
        if !input.tags.isEmpty { answer["tags"] = input.tags.map { ["key": $0.key, "value": $0.value] } }
        return answer
      }
    }
    if !io.modelInputs.isEmpty { inputs["model_inputs"] = io.modelInputs.map { ["model_id": $0] } }
    return inputs
  }

  /// A run's `outputs`, or nil when it logged no model (MLflow then leaves the field out).
  static func outputs(_ io: RunInputsOutputs) -> [String: Any]? {
    guard !io.modelOutputs.isEmpty else { return nil }
    return ["model_outputs": io.modelOutputs.map { ["model_id": $0.modelId, "step": $0.step] as [String: Any] }]
  }
}
