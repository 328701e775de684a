"""Metric histories paged and sampled, a run's artifacts listed, experiment tags deleted and
wrong-typed fields refused, over MLflow's REST API as
its client and UI call it, against a live server (MLFLOW_TRACKING_URI). Written against MLflow
3.17's own server (`mlflow server`, where every check passes) and run against hpod. Prints
`ok <name>` per check, and exits 1 with the failures listed when any fails.
"""

import os
import tempfile
import uuid

import mlflow
import requests
from mlflow.entities import Metric
from client_checks import check, finish, raises

server = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
client = mlflow.MlflowClient()


def get(endpoint, **params):
    return requests.get(f"{server}/{endpoint}", params=params, timeout=30)


def refused(name, answer, code="INVALID_PARAMETER_VALUE", status=400):
    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    check(name, answer.status_code == status and body.get("error_code") == code, f"{answer.status_code} {answer.text[:300]}")


mlflow.set_experiment(f"history-{uuid.uuid4().hex[:8]}")
runs = []
for offset in (0, 100):
    with mlflow.start_run() as run:
        client.log_batch(run.info.run_id, metrics=[Metric("loss", offset + step, 1000 + step, step) for step in range(10)])
        runs.append(run.info.run_id)
first = runs[0]

# get-history: whole without max_results, else pages with tokens.
whole = get("api/2.0/mlflow/metrics/get-history", run_id=first, metric_key="loss").json()
check("whole history", [m["step"] for m in whole["metrics"]] == list(range(10)) and "next_page_token" not in whole, whole)
steps, token, pages = [], None, 0
while True:
    params = {"run_id": first, "metric_key": "loss", "max_results": 4}
    if token:
        params["page_token"] = token
    page = get("api/2.0/mlflow/metrics/get-history", **params).json()
    steps += [m["step"] for m in page["metrics"]]
    pages += 1
    token = page.get("next_page_token")
    if not token or pages > 5:
        break
check("history pages", steps == list(range(10)) and pages == 3, (steps, pages))
refused("max_results 0", get("api/2.0/mlflow/metrics/get-history", run_id=first, metric_key="loss", max_results=0))
check("client history", [m.step for m in client.get_metric_history(first, "loss")] == list(range(10)))

# get-history-bulk-interval, as MLflow's UI asks for chart points.
bulk = "ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
answer = get(bulk, run_ids=runs, metric_key="loss", max_results=3).json()
sampled = [(m["run_id"], m["step"], m["value"]) for m in answer["metrics"]]
check("sampled across runs", sampled == [(runs[0], s, float(s)) for s in (0, 4, 9)]
      + [(runs[1], s, 100.0 + s) for s in (0, 4, 9)], sampled)
answer = get(bulk, run_ids=[first], metric_key="loss", start_step=2, end_step=5).json()
check("a step range", [m["step"] for m in answer["metrics"]] == [2, 3, 4, 5], answer)
check("all points when few", len(get(bulk, run_ids=[first], metric_key="loss").json()["metrics"]) == 10)
refused("one end of a range", get(bulk, run_ids=[first], metric_key="loss", start_step=2))
refused("a range backwards", get(bulk, run_ids=[first], metric_key="loss", start_step=5, end_step=2))
refused("max_results over 2500", get(bulk, run_ids=[first], metric_key="loss", max_results=2501))
refused("no runs", get(bulk, metric_key="loss"))
answer = get(bulk, run_ids=["0123456789abcdef0123456789abcdef", first], metric_key="loss", max_results=1)
check("an unknown run has no points", answer.status_code == 200
      and [(m["run_id"], m["step"]) for m in answer.json().get("metrics", [])] == [(first, 9)], answer.text)

# artifacts/list: a run's files and folders, paths from its root.
with tempfile.TemporaryDirectory() as folder:
    with open(os.path.join(folder, "a.txt"), "w") as out:
        out.write("hello")
    client.log_artifact(first, os.path.join(folder, "a.txt"))
    client.log_artifact(first, os.path.join(folder, "a.txt"), "dir")
listed = get("api/2.0/mlflow/artifacts/list", run_id=first).json()
check("root listed", listed.get("root_uri") == client.get_run(first).info.artifact_uri
      and [(f["path"], f["is_dir"], f.get("file_size")) for f in listed["files"]]
      == [("a.txt", False, 5), ("dir", True, None)], listed)
listed = get("api/2.0/mlflow/artifacts/list", run_id=first, path="dir").json()
check("folder listed", [f["path"] for f in listed["files"]] == ["dir/a.txt"], listed)
check("missing folder", get("api/2.0/mlflow/artifacts/list", run_id=first, path="none").json().get("files", []) == [])
refused("a path up", get("api/2.0/mlflow/artifacts/list", run_id=first, path="../x"))
refused("an unknown run's artifacts", get("api/2.0/mlflow/artifacts/list", run_id="0123456789abcdef0123456789abcdef"),
        "RESOURCE_DOES_NOT_EXIST", 404)

# Experiment tags deleted; wrong-typed fields refused.
experiment_id = client.get_run(first).info.experiment_id
client.set_experiment_tag(experiment_id, "team", "a")
client.delete_experiment_tag(experiment_id, "team")
check("experiment tag deleted", "team" not in client.get_experiment(experiment_id).tags)
try:
    client.delete_experiment_tag(experiment_id, "team")
    check("missing experiment tag", False, "raised nothing")
except mlflow.exceptions.MlflowException as error:
    check("missing experiment tag", error.error_code == "RESOURCE_DOES_NOT_EXIST", error.error_code)
post = lambda endpoint, body: requests.post(f"{server}/{endpoint}", json=body, timeout=30)
refused("a number for a name", post("api/2.0/mlflow/experiments/create", {"name": 123}))
refused("a number for a run id", post("api/2.0/mlflow/runs/log-metric", {"run_id": 5, "key": "x", "value": 1}))
check("nothing made of a refused name", not client.search_experiments(filter_string="name = '123'"))

finish()
