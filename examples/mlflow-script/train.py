"""A training script written for MLflow, unchanged for hpod: it logs its parameters, a
validation score per epoch, a tag and a model file with mlflow's own calls.

Run as an hpod trial (study.yaml beside it), `mlflow.start_run()` joins the trial's run in
hpod's store (hpod sets MLFLOW_TRACKING_URI and MLFLOW_RUN_ID), and the logged score is the
trial's objective: early stopping and the dashboard see it as it is logged.
Needs the `mlflow` package (make mlflow installs it into .venv/mlflow).
"""

import argparse
import json
import math
import os
import tempfile
import time

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--width", type=int, default=32)
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--pause", type=float, default=0.05)
args = parser.parse_args()

with mlflow.start_run():
    mlflow.log_params({"lr": args.lr, "width": args.width, "epochs": args.epochs})
    mlflow.set_tag("framework", "plain-python")
    # A made-up learning curve: it climbs towards a ceiling set by the learning rate and width.
    ceiling = 0.95 - 0.3 * abs(math.log10(args.lr) + 1.5) / 2.5 - 8.0 / (args.width + 16)
    score = 0.0
    for epoch in range(args.epochs):
        score = ceiling * (1 - math.exp(-(epoch + 1) / 2.5))
        mlflow.log_metric("val_score", score, step=epoch)
        mlflow.log_metric("train_loss", 1.0 - score + 0.05, step=epoch)
        time.sleep(args.pause)
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump({"lr": args.lr, "width": args.width, "score": score}, f)
    mlflow.log_artifact(os.path.join(folder, "model.json"))
