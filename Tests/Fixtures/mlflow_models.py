"""MLflow 3's logged models, datasets and autolog through the unmodified mlflow client against
a live `hpod serve` (MLFLOW_TRACKING_URI), each checked against what MLflow 3.17's server
answers. Prints `ok <name>` per check, and exits 1 with the failures listed when any fails.
"""

import uuid

import mlflow
import numpy as np
from mlflow.entities import Metric
from sklearn.linear_model import LogisticRegression
from client_checks import check, finish, raises

client = mlflow.MlflowClient()


X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.2, 0.1], [0.9, 0.8]])
y = np.array([0, 1, 0, 1, 0, 1])

# log_model of a flavor inside a run, then loaded back from its models:/m-<id> URI.
experiment = mlflow.set_experiment(f"models-{uuid.uuid4().hex[:8]}")
with mlflow.start_run() as run:
    model = LogisticRegression().fit(X, y)
    info = mlflow.sklearn.log_model(model, name="classifier", params={"C": "1.0"})
check("model uri", info.model_uri == f"models:/{info.model_id}" and info.model_id.startswith("m-"), info.model_uri)
loaded = mlflow.pyfunc.load_model(info.model_uri)
check("loaded model predicts", list(loaded.predict(X)) == list(model.predict(X)), loaded.predict(X))
logged = client.get_logged_model(info.model_id)
check("logged model", logged.name == "classifier" and logged.source_run_id == run.info.run_id
      and str(logged.status) == "READY" and logged.params == {"C": "1.0"}
      and logged.artifact_location == f"mlflow-artifacts:/{experiment.experiment_id}/models/{info.model_id}/artifacts",
      logged)
files = {f.path for f in client.list_logged_model_artifacts(info.model_id)}
check("model artifacts listed", {"MLmodel", "requirements.txt"} <= files, files)
outputs = client.get_run(run.info.run_id).outputs.model_outputs
check("run outputs", [o.model_id for o in outputs] == [info.model_id], outputs)
check("last logged model", mlflow.last_logged_model().model_id == info.model_id)

# Metrics of a model, tags, search with filters, order and pages.
second = mlflow.create_external_model(name="second", params={"depth": "3"})
third = mlflow.create_external_model(name="third")
client.log_batch(run.info.run_id, metrics=[
    Metric("acc", 0.7, 1, 0, model_id=info.model_id, dataset_name="val", dataset_digest="d1"),
    Metric("acc", 0.9, 2, 0, model_id=second.model_id),
])
check("model metrics", [(m.key, m.value, m.dataset_name, m.run_id) for m in client.get_logged_model(info.model_id).metrics]
      == [("acc", 0.7, "val", run.info.run_id)], client.get_logged_model(info.model_id).metrics)
client.log_batch(run.info.run_id, metrics=[Metric("twice", 1.0, 5, 0), Metric("twice", 1.0, 5, 0)])
client.log_metric(run.info.run_id, "twice", 1.0, timestamp=5, step=0)
check("a point logged again is kept once", len(client.get_metric_history(run.info.run_id, "twice")) == 1,
      client.get_metric_history(run.info.run_id, "twice"))
check("run has the metric too", client.get_run(run.info.run_id).data.metrics.get("acc") is not None)
client.set_logged_model_tags(second.model_id, {"stage": "candidate", "team": "a"})
client.delete_logged_model_tag(second.model_id, "team")
tags = client.get_logged_model(second.model_id).tags
check("model tags", tags.get("stage") == "candidate" and "team" not in tags, tags)
raises("missing model tag", "RESOURCE_DOES_NOT_EXIST", lambda: client.delete_logged_model_tag(second.model_id, "nope"))
ids = [experiment.experiment_id]
found = client.search_logged_models(ids, filter_string="metrics.acc > 0.8")
check("filter on a metric", [m.model_id for m in found] == [second.model_id], [m.name for m in found])
found = client.search_logged_models(ids, filter_string="name = 'second' AND params.depth = '3' AND tags.stage LIKE 'cand%'")
check("filter on name, param and tag", [m.name for m in found] == ["second"], [m.name for m in found])
found = client.search_logged_models(ids, filter_string=f"source_run_id = '{run.info.run_id}'")
check("filter on source run", [m.name for m in found] == ["classifier"], [m.name for m in found])
found = client.search_logged_models(ids, order_by=[{"field_name": "metrics.acc", "ascending": False}])
check("order by metric, none last", [m.name for m in found] == ["second", "classifier", "third"], [m.name for m in found])
# (With a name alone MLflow 3.17's server finds nothing: its REST handler sends digest None
# on, which its SQL compares with `= NULL`; hpod takes a missing digest as any digest.)
found = client.search_logged_models(ids, datasets=[{"dataset_name": "val", "dataset_digest": "d1"}])
check("models with metrics on a dataset", [m.name for m in found] == ["classifier"], [m.name for m in found])
found = client.search_logged_models(ids)
check("newest first", [m.name for m in found] == ["third", "second", "classifier"], [m.name for m in found])
page = client.search_logged_models(ids, max_results=2)
rest = client.search_logged_models(ids, max_results=2, page_token=page.token)
check("pages", len(page) == 2 and page.token and [m.name for m in rest] == ["classifier"] and not rest.token,
      f"{len(page)} {page.token} {[m.name for m in rest]}")
raises("token of another search", "INVALID_PARAMETER_VALUE",
       lambda: client.search_logged_models(ids, filter_string="name = 'x'", page_token=page.token))
raises("operator a text field does not take", "INVALID_PARAMETER_VALUE",
       lambda: client.search_logged_models(ids, filter_string="name > 'a'"))
raises("OR", "INVALID_PARAMETER_VALUE",
       lambda: client.search_logged_models(ids, filter_string="name = 'a' OR name = 'b'"))
raises("order by a param", "INVALID_PARAMETER_VALUE",
       lambda: client.search_logged_models(ids, order_by=[{"field_name": "params.depth"}]))
raises("bad model name", "INVALID_PARAMETER_VALUE", lambda: mlflow.create_external_model(name="a/b"))
client.finalize_logged_model(third.model_id, "FAILED")
check("finalized", str(client.get_logged_model(third.model_id).status) == "FAILED")
client.delete_logged_model(third.model_id)
raises("deleted model", "RESOURCE_DOES_NOT_EXIST", lambda: client.get_logged_model(third.model_id))
check("deleted model not searched", third.model_id not in [m.model_id for m in client.search_logged_models(ids)])
raises("unknown model", "RESOURCE_DOES_NOT_EXIST", lambda: client.get_logged_model("m-0123456789abcdef0123456789abcdef"))

# Datasets: log_input, shown in the run's inputs.
with mlflow.start_run() as data_run:
    dataset = mlflow.data.from_numpy(X, targets=y, name="toy")
    mlflow.log_input(dataset, context="training")
    mlflow.log_input(dataset, context="training")
inputs = client.get_run(data_run.info.run_id).inputs.dataset_inputs
check("dataset input", len(inputs) == 1 and inputs[0].dataset.name == "toy"
      and inputs[0].dataset.digest == dataset.digest
      and {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "training"}, inputs)

# autolog: params, training metrics, the model and the dataset of a fit.
mlflow.sklearn.autolog()
with mlflow.start_run() as auto_run:
    LogisticRegression(C=0.5).fit(X, y)
mlflow.sklearn.autolog(disable=True)
auto = client.get_run(auto_run.info.run_id)
check("autolog params", auto.data.params.get("C") == "0.5", auto.data.params)
check("autolog metrics", "training_accuracy_score" in auto.data.metrics, auto.data.metrics)
check("autolog dataset", len(auto.inputs.dataset_inputs) >= 1, auto.inputs)
auto_models = client.search_logged_models(ids, filter_string=f"source_run_id = '{auto_run.info.run_id}'")
check("autolog model", len(auto_models) == 1 and str(auto_models[0].status) == "READY", auto_models)
if auto_models:
    check("autolog model loads", list(mlflow.pyfunc.load_model(f"models:/{auto_models[0].model_id}").predict(X))
          == list(y))

finish()
