"""A scikit-learn training script written for MLflow, run unchanged by hpod.

It turns on `mlflow.sklearn.autolog()` (the pipeline's parameters and training metrics are
logged by it), reports the held-out accuracy with `mlflow.log_metric`, and logs the fitted
model with `mlflow.sklearn.log_model`. Run as an hpod trial, `mlflow.start_run()` joins the
trial's run in hpod's store (hpod sets MLFLOW_TRACKING_URI and MLFLOW_RUN_ID), `val_accuracy`
is the trial's objective, and the model it logs is what hpod registers.
The data are scikit-learn's bundled 8x8 digits: no download.
"""

import argparse

import mlflow
import mlflow.sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--gamma", type=float, default=0.01)
parser.add_argument("--kernel", default="rbf")
parser.add_argument("--data-fraction", type=float, default=1.0, help="share of the training digits used")
args = parser.parse_args()

digits = load_digits()
# The same split for every trial; the validation part is never trained on.
x_train, x_val, y_train, y_val = train_test_split(
    digits.data, digits.target, test_size=0.25, stratify=digits.target, random_state=0
)
if args.data_fraction < 1.0:
    x_train, _, y_train, _ = train_test_split(
        x_train, y_train, train_size=args.data_fraction, stratify=y_train, random_state=0
    )

# The model is logged below, once, with an input example (so it has a signature).
mlflow.sklearn.autolog(log_models=False)
with mlflow.start_run():
    model = make_pipeline(StandardScaler(), SVC(C=args.C, gamma=args.gamma, kernel=args.kernel))
    model.fit(x_train, y_train)
    mlflow.log_metric("val_accuracy", float(model.score(x_val, y_val)))
    mlflow.sklearn.log_model(model, name="model", input_example=x_val[:3])
