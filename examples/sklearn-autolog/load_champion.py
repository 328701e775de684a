"""Loads the registered champion of the sklearn-autolog study from hpod's registry with
MLflow's own call, and predicts with it. Run it with MLFLOW_TRACKING_URI pointing at
`hpod serve` (the daemon that ran the study, or one started on its store):

    MLFLOW_TRACKING_URI=http://127.0.0.1:8765 python examples/sklearn-autolog/load_champion.py
"""

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

NAME = "sklearn-autolog-digits"

version = MlflowClient().get_model_version_by_alias(NAME, "champion")
model = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
digits = load_digits()
# train.py's split: the validation digits no trial trained on.
_, x_val, _, y_val = train_test_split(
    digits.data, digits.target, test_size=0.25, stratify=digits.target, random_state=0
)
predicted = model.predict(x_val)
accuracy = float((predicted == y_val).mean())
print(f"{NAME} version {version.version} (run {version.run_id}): predicted {[int(v) for v in predicted[:10]]}")
print(f"accuracy on {len(y_val)} validation digits: {accuracy:.3f}")
