"""Deleting a run leaves the models it logged as MLflow 3.17 leaves them: a logged model is an
entity of its own (its experiment's), still found by id and by search, loadable, and
registered versions of it still load; restoring the run changes nothing for them.
Passes against `mlflow server` too.
"""

import uuid

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from client_checks import check, finish

client = MlflowClient()
tag = uuid.uuid4().hex[:8]
X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
y = np.array([0, 1, 0, 1])

mlflow.set_experiment(f"cleanup-{tag}")
with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model")
version = mlflow.register_model(info.model_uri, f"cleanup-{tag}")

client.delete_run(run.info.run_id)
check("run deleted", client.get_run(run.info.run_id).info.lifecycle_stage == "deleted")
model = client.get_logged_model(info.model_id)
check("model kept", model.model_id == info.model_id and model.source_run_id == run.info.run_id, model)
found = client.search_logged_models(experiment_ids=[run.info.experiment_id])
check("model still found", [m.model_id for m in found] == [info.model_id], found)
loaded = mlflow.pyfunc.load_model(info.model_uri)
check("model still loads", list(loaded.predict(X)) == [0, 1, 0, 1])
registered = mlflow.pyfunc.load_model(f"models:/cleanup-{tag}/{version.version}")
check("registered version still loads", list(registered.predict(X)) == [0, 1, 0, 1])
client.restore_run(run.info.run_id)
check("restored run keeps its model", client.get_logged_model(info.model_id).source_run_id == run.info.run_id)
finish()
