"""A training script that names its experiment by id, run as an hpod trial:
`mlflow.set_experiment(experiment_id=...)` then `mlflow.start_run(experiment_id=...)`.
Usage: mlflow_trial_experiment_id.py own|other
  own:   the id of the experiment its run is in (read from its run)
  other: the id of an experiment it creates itself
"""

import os
import sys
import uuid

import mlflow
from mlflow import MlflowClient

client = MlflowClient()
# start_run consumes MLFLOW_RUN_ID (it unsets it): read it first.
trial_run_id = os.environ["MLFLOW_RUN_ID"]
if sys.argv[1] == "own":
    experiment_id = client.get_run(trial_run_id).info.experiment_id
else:
    experiment_id = client.create_experiment(f"elsewhere-{uuid.uuid4().hex[:8]}")

experiment = mlflow.set_experiment(experiment_id=experiment_id)
with mlflow.start_run(experiment_id=experiment.experiment_id) as run:
    assert run.info.run_id == trial_run_id, (run.info.run_id, trial_run_id)
    mlflow.log_param("asked", sys.argv[1])
    mlflow.log_metric("score", 0.75)
    print(f"joined {run.info.run_id} in experiment {run.info.experiment_id} (asked {experiment_id})")
