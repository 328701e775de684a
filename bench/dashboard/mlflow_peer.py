"""The MLflow peer of bench/dashboard: the same runs in an MLflow tracking server, and the
time it takes to answer the runs/search requests its experiment page makes.

    mlflow_peer.py RUNS.jsonl WORKDIR MLFLOW_BIN REPEATS

Runs are imported through MLflow's own SQLAlchemy store (what the server reads), then an
`mlflow server` is started on the SQLite file and timed from a client on the same machine.
The experiment page asks POST ajax-api/2.0/mlflow/runs/search with max_results 100 (the UI's
page size; its "load more" follows next_page_token), ordered by start time.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

runs_path, work, mlflow_bin, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(work, exist_ok=True)
db = os.path.join(work, "mlflow.sqlite")
uri = f"sqlite:///{db}"
artifacts = os.path.join(work, "artifacts")

from mlflow.entities import Metric, Param, RunStatus, RunTag  # noqa: E402
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore  # noqa: E402

started = time.time()
store = SqlAlchemyStore(uri, artifacts)
experiment = store.create_experiment("dashboard-bench")
status = {"completed": RunStatus.FINISHED, "failed": RunStatus.FAILED, "pruned": RunStatus.KILLED}
count = 0
with open(runs_path) as lines:
    for line in lines:
        run = json.loads(line)
        name = f"trial-{run['number']}"
        created = store.create_run(
            experiment, user_id="bench", start_time=run["start"], run_name=name,
            tags=[RunTag("hpod.tier", run["tier"]), RunTag("hpod.state", run["state"])])
        metrics = []
        for point in run["history"]:
            stamp, step = int(point["timestamp"]), int(point["step"])
            metrics.append(Metric("val_accuracy", point["val_accuracy"], stamp, step))
            metrics.append(Metric("loss", point["loss"], stamp, step))
        if run["latency_ms"] >= 0:
            metrics.append(Metric("latency_ms", run["latency_ms"], run["start"] + 30_000, run["steps"] + 1))
        params = [Param(key, value) for key, value in run["params"].items()]
        run_id = created.info.run_id
        store.log_batch(run_id, metrics=metrics, params=params, tags=[])
        store.update_run_info(
            run_id, status[run["state"]], run["start"] + 1000 * run["steps"], name)
        count += 1
print(f"mlflow: imported {count} runs in {time.time() - started:.1f} s", file=sys.stderr)

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = subprocess.Popen(
    [os.path.join(mlflow_bin, "mlflow"), "server", "--backend-store-uri", uri, "--default-artifact-root",
     artifacts, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/health", timeout=1).read()
            break
        except Exception:
            time.sleep(0.2)

    def search(token=None):
        body = {"experiment_ids": [experiment], "filter": "", "run_view_type": "ACTIVE_ONLY",
                "max_results": 100, "order_by": ["attributes.start_time DESC"]}
        if token:
            body["page_token"] = token
        request = urllib.request.Request(
            base + "/ajax-api/2.0/mlflow/runs/search", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        began = time.perf_counter()
        answer = json.loads(urllib.request.urlopen(request, timeout=600).read())
        return time.perf_counter() - began, answer

    search()  # warm up (first query, caches)
    first = [search()[0] for _ in range(repeats)]
    totals = []
    for _ in range(max(1, repeats // 5)):
        total, token, seen = 0.0, None, 0
        while True:
            elapsed, answer = search(token)
            total += elapsed
            seen += len(answer.get("runs", []))
            token = answer.get("next_page_token")
            if not token:
                break
        totals.append(total)
    print(json.dumps({
        "first_page_ms": statistics.median(first) * 1000, "first_page_p95_ms": sorted(first)[int(len(first) * 0.95) - 1] * 1000,
        "all_runs_ms": statistics.median(totals) * 1000, "runs_seen": seen, "pages": (seen + 99) // 100}))
finally:
    server.terminate()
    server.wait(timeout=30)
