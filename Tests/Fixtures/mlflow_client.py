"""Unmodified mlflow client calls against a live `hpod serve` (MLFLOW_TRACKING_URI), each
checked against what an MLflow server answers. Prints `ok <name>` per check, and exits 1 with
the failures listed when any check fails. The study `mlflow-script` (3 trials) has run on
this hpod.
"""

import math
import os
import tempfile

import mlflow
from mlflow.entities import Metric, Param, RunTag

from client_checks import check, finish, raises

client = mlflow.MlflowClient()


# The study's trials are runs of its experiment, named and tagged as hpod names them.
study = client.get_experiment_by_name("mlflow-script")
check("study experiment", study is not None and study.lifecycle_stage == "active")
frame = mlflow.search_runs(experiment_names=["mlflow-script"], order_by=["metrics.val_score DESC"])
check("search_runs frame", len(frame) == 3, f"{len(frame)} rows")
for column in ["run_id", "status", "start_time", "end_time", "metrics.val_score", "params.lr", "params.epochs",
               "tags.hpod.tier", "tags.framework", "tags.mlflow.runName"]:
    check(f"column {column}", column in frame.columns, f"columns: {list(frame.columns)}")
check("ordered by val_score", list(frame["metrics.val_score"]) == sorted(frame["metrics.val_score"], reverse=True))
best = frame.iloc[0]
check("trial run finished", best["status"] == "FINISHED", best["status"])
check("run name", " · config-" in best["tags.mlflow.runName"], best["tags.mlflow.runName"])
history = client.get_metric_history(best["run_id"], "val_score")
check("metric history", [m.step for m in history] == list(range(4)), [m.step for m in history])
check("trial artifact", [f.path for f in client.list_artifacts(best["run_id"])] == ["model.json"])
filtered = mlflow.search_runs(
    experiment_names=["mlflow-script"],
    filter_string=f"metrics.val_score >= {best['metrics.val_score']} and tags.`hpod.tier` = 'quick_test'")
check("filter on metric and quoted tag", list(filtered["run_id"]) == [best["run_id"]], list(filtered["run_id"]))
check("filter LIKE and IN", len(mlflow.search_runs(
    experiment_names=["mlflow-script"],
    filter_string="attributes.run_name LIKE 'trial % · config-%' and attributes.status IN ('FINISHED', 'KILLED')")) == 3)
page = client.search_runs([study.experiment_id], max_results=2)
rest = client.search_runs([study.experiment_id], max_results=2, page_token=page.token)
check("paging", len(page) == 2 and page.token and len(rest) == 1 and not rest.token,
      f"{len(page)} then {len(rest)}")

# Runs made through the API, outside any study.
mlflow.set_experiment("notebook")
with mlflow.start_run(run_name="by hand") as run:
    mlflow.log_params({"alpha": 0.5, "solver": "lbfgs"})
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.set_tag("owner", "me")
    path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    with open(path, "w") as f:
        f.write("kept")
    mlflow.log_artifact(path, artifact_path="docs")
    client.log_batch(run.info.run_id, metrics=[Metric("acc", 0.9, 0, 0)], params=[Param("seed", "1")],
                     tags=[RunTag("note", "batch")])
fetched = client.get_run(run.info.run_id)
check("tracked run", fetched.info.status == "FINISHED" and fetched.info.run_name == "by hand", fetched.info)
check("tracked data", fetched.data.params == {"alpha": "0.5", "solver": "lbfgs", "seed": "1"}
      and fetched.data.metrics == {"loss": 1.0 / 3, "acc": 0.9} and fetched.data.tags["owner"] == "me",
      fetched.data)
# A diverged loss is logged and kept, as an MLflow server keeps it (NaN, then ±infinity).
mlflow.set_experiment("diverging")
with mlflow.start_run(run_name="diverged") as diverged:
    mlflow.log_metric("loss", 0.5, step=0)
    mlflow.log_metric("loss", float("nan"), step=1)
    mlflow.log_metric("loss", float("inf"), step=2)
    client.log_batch(diverged.info.run_id, metrics=[Metric("grad", float("-inf"), 0, 0)])
losses = [m.value for m in client.get_metric_history(diverged.info.run_id, "loss")]
check("non-finite metrics kept", len(losses) == 3 and losses[0] == 0.5 and math.isnan(losses[1])
      and losses[2] == math.inf, losses)
check("non-finite latest", client.get_run(diverged.info.run_id).data.metrics["grad"] == -math.inf,
      client.get_run(diverged.info.run_id).data.metrics)
mlflow.set_experiment("notebook")
downloaded = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="docs/notes.txt")
check("artifact round trip", open(downloaded).read() == "kept")
client.delete_tag(run.info.run_id, "note")
check("delete tag", "note" not in client.get_run(run.info.run_id).data.tags)
client.delete_run(run.info.run_id)
notebook = client.get_experiment_by_name("notebook").experiment_id
check("deleted run hidden", len(client.search_runs([notebook])) == 0)
check("deleted run listed", len(client.search_runs([notebook], run_view_type=2)) == 1)
client.restore_run(run.info.run_id)
check("restored run", len(client.search_runs([notebook])) == 1)
check("experiments listed", {"Default", "mlflow-script", "notebook"} <= {e.name for e in client.search_experiments()})

# Errors, as an MLflow server raises them.
with mlflow.start_run(run_id=run.info.run_id):
    raises("changing a param", "INVALID_PARAMETER_VALUE", lambda: mlflow.log_param("alpha", 0.7))
raises("bad filter", "INVALID_PARAMETER_VALUE",
       lambda: client.search_runs([notebook], filter_string="metrics.loss >>> 1"))
# The client splits a large log_batch itself; a raw request over the limit is refused.
import requests  # noqa: E402  (installed with mlflow)

answer = requests.post(
    os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-batch",
    json={"run_id": run.info.run_id,
          "metrics": [{"key": "m", "value": 1.0, "timestamp": 0, "step": i} for i in range(1001)]})
check("oversized batch", answer.status_code == 400 and answer.json().get("error_code") == "INVALID_PARAMETER_VALUE",
      f"{answer.status_code} {answer.text[:200]}")
client.log_batch(run.info.run_id, metrics=[Metric("chunked", 1.0, 0, i) for i in range(1500)])
check("large batch chunked by the client", len(client.get_metric_history(run.info.run_id, "chunked")) == 1500)
raises("unknown run", "RESOURCE_DOES_NOT_EXIST", lambda: client.get_run("0123456789abcdef0123456789abcdef"))
raises("duplicate experiment", "RESOURCE_ALREADY_EXISTS", lambda: client.create_experiment("notebook"))
raises("deleting a study's experiment", "INVALID_STATE", lambda: client.delete_experiment(study.experiment_id))

# The model registry: versions from trials' runs, aliases.
client.create_registered_model("scorer")
version = client.create_model_version("scorer", f"runs:/{best['run_id']}/model.json", run_id=best["run_id"])
check("model version", version.version == "1" and version.run_id == best["run_id"], version)
client.set_registered_model_alias("scorer", "champion", "1")
check("alias", client.get_model_version_by_alias("scorer", "champion").run_id == best["run_id"])
check("registered model", client.get_registered_model("scorer").aliases == {"champion": "1"},
      client.get_registered_model("scorer"))
check("search registered models", [m.name for m in client.search_registered_models("name LIKE 'sco%'")] == ["scorer"])
check("search model versions", [v.version for v in client.search_model_versions("name = 'scorer'")] == ["1"])
client.delete_registered_model_alias("scorer", "champion")
check("alias deleted", client.get_registered_model("scorer").aliases == {})
raises("duplicate model", "RESOURCE_ALREADY_EXISTS", lambda: client.create_registered_model("scorer"))
raises("unknown model", "RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model("nope"))
outside = client.create_model_version("scorer", f"runs:/{run.info.run_id}/docs", run_id=run.info.run_id)
check("version of a run outside studies", outside.version == "2" and outside.run_id == run.info.run_id
      and outside.source == f"runs:/{run.info.run_id}/docs", outside)
check("trial version source", client.get_model_version("scorer", "1").source == f"runs:/{best['run_id']}/model.json",
      client.get_model_version("scorer", "1").source)

finish()
