"""A training script as users write it for MLflow, run as an hpod trial: it names its own
experiment, turns on sklearn autolog, logs a model explicitly and loads it back.
Usage: mlflow_trial_model.py <experiment name> <C>
"""

import sys

import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression

X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.2, 0.1], [0.9, 0.8]])
y = np.array([0, 1, 0, 1, 0, 1])

mlflow.set_experiment(sys.argv[1])
mlflow.sklearn.autolog()
with mlflow.start_run() as run:
    model = LogisticRegression(C=float(sys.argv[2])).fit(X, y)
    info = mlflow.sklearn.log_model(model, name="classifier")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert list(loaded.predict(X)) == list(model.predict(X)), "the logged model predicts otherwise"
    mlflow.log_metric("score", float(model.score(X, y)))
    print(f"run {run.info.run_id} model {info.model_id}")
