"""A notebook-style run made through hpod's MLflow API outside any study: params, a metric
history, a note, a tag and an artifact. Prints `RUN <experiment id> <run id>` and the client's
own "View run" line.
"""

import os
import sys
import tempfile
import uuid

import mlflow

mlflow.set_experiment(f"notebook-{uuid.uuid4().hex[:8]}")
with mlflow.start_run(run_name="by hand") as run:
    mlflow.log_param("lr", "<b>0.1</b>")
    mlflow.log_param("layers", 3)
    for step in range(3):
        mlflow.log_metric("loss", 0.5 - 0.1 * step, step=step)
    mlflow.set_tag("mlflow.note.content", "tried it by hand")
    mlflow.set_tag("team", "vision")
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "weights.txt"), "w") as out:
        out.write("w=1\n")
    mlflow.log_artifact(os.path.join(folder, "weights.txt"), "model")
print(f"RUN {run.info.experiment_id} {run.info.run_id}")
sys.stdout.flush()
