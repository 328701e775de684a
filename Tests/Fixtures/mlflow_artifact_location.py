"""Experiments created with an artifact_location, through the mlflow client: the location is
kept and shown, runs' artifacts go under it, and bad locations are refused as MLflow 3.17's
server refuses them. Passes against `mlflow server` too.
Usage: mlflow_artifact_location.py <a scratch folder>
"""

import os
import sys
import tempfile
import uuid

import mlflow
from mlflow import MlflowClient
from mlflow.utils.rest_utils import http_request

from client_checks import check, finish, raises

folder = sys.argv[1]
client = MlflowClient()
tag = uuid.uuid4().hex[:8]
source = tempfile.mkdtemp()
with open(os.path.join(source, "weights.txt"), "w") as out:
    out.write("w=1\n")

# A local folder (file:///): the client writes the run's artifacts there itself.
local = f"file://{folder}/local-{tag}"
local_id = client.create_experiment(f"local-{tag}", artifact_location=local)
check("get shows it", client.get_experiment(local_id).artifact_location == local, client.get_experiment(local_id))
found = [e for e in client.search_experiments(filter_string=f"name = 'local-{tag}'")]
check("search shows it", [e.artifact_location for e in found] == [local], found)
run = client.create_run(local_id)
check("run uri", run.info.artifact_uri == f"{local}/{run.info.run_id}/artifacts", run.info.artifact_uri)
client.log_artifact(run.info.run_id, os.path.join(source, "weights.txt"), "model")
on_disk = f"{folder}/local-{tag}/{run.info.run_id}/artifacts/model/weights.txt"
check("written there", os.path.exists(on_disk), on_disk)
listed = http_request(
    client._tracking_client.store.get_host_creds(), "/api/2.0/mlflow/artifacts/list", "GET",
    params={"run_id": run.info.run_id, "path": "model"},
).json()
check("server lists it", [f["path"] for f in listed.get("files", [])] == ["model/weights.txt"], listed)

# A path without a scheme is kept absolute.
relative_id = client.create_experiment(f"relative-{tag}", artifact_location=f"relative-{tag}/store")
location = client.get_experiment(relative_id).artifact_location
check("relative made absolute", os.path.isabs(location) and location.endswith(f"relative-{tag}/store"), location)

# Under the server's artifact proxy: uploads and downloads go through it.
proxied = f"mlflow-artifacts:/team-{tag}/models"
proxied_id = client.create_experiment(f"proxied-{tag}", artifact_location=proxied)
mlflow.set_experiment(experiment_id=proxied_id)
with mlflow.start_run() as proxied_run:
    mlflow.log_artifact(os.path.join(source, "weights.txt"), "model")
check("proxied run uri", proxied_run.info.artifact_uri == f"{proxied}/{proxied_run.info.run_id}/artifacts",
      proxied_run.info.artifact_uri)
back = mlflow.artifacts.download_artifacts(run_id=proxied_run.info.run_id, artifact_path="model/weights.txt")
check("proxied round trip", open(back).read() == "w=1\n", back)
check("proxied list", [f.path for f in client.list_artifacts(proxied_run.info.run_id, "model")] == ["model/weights.txt"])

# What MLflow refuses.
raises("runs uri refused", "INVALID_PARAMETER_VALUE",
       lambda: client.create_experiment(f"bad1-{tag}", artifact_location="runs:/abc/model"))
raises("other host refused", "INVALID_PARAMETER_VALUE",
       lambda: client.create_experiment(f"bad2-{tag}", artifact_location="http://example.com/artifacts"))
raises("fragment refused", "INVALID_PARAMETER_VALUE",
       lambda: client.create_experiment(f"bad3-{tag}", artifact_location="file:///tmp/x#part"))
raises("traversing query refused", "INVALID_PARAMETER_VALUE",
       lambda: client.create_experiment(f"bad4-{tag}", artifact_location="file:///tmp/x?a=../b"))
raises("too long refused", "INVALID_PARAMETER_VALUE",
       lambda: client.create_experiment(f"bad5-{tag}", artifact_location="/" + "a" * 2100))
check("refused made nothing",
      [e.name for e in client.search_experiments(filter_string=f"name LIKE 'bad%-{tag}'")] == [])
finish()
