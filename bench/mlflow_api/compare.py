#!/usr/bin/env python3
"""The same mlflow client work against hpod's MLflow API and against `mlflow server`:

  * logging: one run, 50 params, then N metric points in log-batch calls of 1,000;
  * search: `mlflow.search_runs()` over R runs (each with 2 params, 2 metrics and a tag),
    every page, as a DataFrame; the median of 3;
  * and, for the record, the time to create those R runs from 8 client threads.

Both servers start on fresh stores here: hpod serve (release build) and mlflow server on
SQLite with one worker. Prints a table with the ratios.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import mlflow
import requests
from mlflow.entities import Metric, Param, RunTag


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(uri, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server at {uri} exited ({process.returncode})")
        try:
            if requests.get(uri + "/api/2.0/mlflow/experiments/get?experiment_id=0", timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    sys.exit(f"the server at {uri} did not start")


def start_hpod(binary, work):
    home = os.path.join(work, "hpod-home")
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--log-level", "warning"],
                               env=dict(os.environ, HPOD_HOME=home), stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(work, "hpod.log"), "w"), start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    wait_ready(uri, process)
    return uri, process


def start_mlflow(executable, work):
    port = free_port()
    folder = os.path.join(work, "mlflow")
    os.makedirs(folder)
    process = subprocess.Popen(
        [executable, "server", "--backend-store-uri", f"sqlite:///{folder}/mlflow.db", "--artifacts-destination",
         f"{folder}/artifacts", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"), stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, "mlflow.log"), "w"), start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    wait_ready(uri, process)
    return uri, process


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def workload(uri, runs, points):
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("bench")
    # Logging: 50 params, then the points in batches of 1,000.
    started = time.perf_counter()
    run = client.create_run(experiment)
    client.log_batch(run.info.run_id, params=[Param(f"p{i}", str(i)) for i in range(50)])
    for start in range(0, points, 1000):
        client.log_batch(run.info.run_id, metrics=[
            Metric("loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step)
            for step in range(start, min(points, start + 1000))])
    client.set_terminated(run.info.run_id)
    logging = time.perf_counter() - started
    assert len(client.get_metric_history(run.info.run_id, "loss")) == points

    # R runs to search over.
    def make(i):
        made = client.create_run(experiment, run_name=f"r{i}")
        client.log_batch(made.info.run_id, metrics=[Metric("acc", (i % 100) / 100, 0, 0), Metric("loss", i, 0, 0)],
                         params=[Param("lr", str(i % 7)), Param("depth", str(i % 5))], tags=[RunTag("group", str(i % 3))])
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(runs - 1)))
    creating = time.perf_counter() - started

    searches = []
    for _ in range(3):
        started = time.perf_counter()
        frame = mlflow.search_runs(experiment_ids=[experiment], max_results=runs + 10)
        searches.append(time.perf_counter() - started)
        assert len(frame) == runs, len(frame)
    started = time.perf_counter()
    filtered = mlflow.search_runs(experiment_ids=[experiment], filter_string="metrics.acc > 0.5 and params.lr = '3'",
                                  order_by=["metrics.loss DESC"])
    filtering = time.perf_counter() - started
    # The servers alone: the same calls as raw HTTP, without the client's own work (building
    # protos, DataFrames).
    session = requests.Session()
    raw_logs = []
    for batch in range(5):
        body = {"run_id": run.info.run_id, "metrics": [
            {"key": "raw", "value": 0.5, "timestamp": 1_700_000_000_000, "step": batch * 1000 + i} for i in range(1000)]}
        started = time.perf_counter()
        assert session.post(uri + "/api/2.0/mlflow/runs/log-batch", json=body).status_code == 200
        raw_logs.append(time.perf_counter() - started)
    raw_searches = []
    for _ in range(3):
        started = time.perf_counter()
        token, found = None, 0
        while True:
            body = {"experiment_ids": [experiment], "max_results": 1000}
            if token:
                body["page_token"] = token
            answer = session.post(uri + "/api/2.0/mlflow/runs/search", json=body).json()
            found += len(answer.get("runs", []))
            token = answer.get("next_page_token")
            if not token:
                break
        raw_searches.append(time.perf_counter() - started)
        assert found == runs, found
    return {"logging": logging, "creating": creating, "search": statistics.median(searches), "filter": filtering,
            "filtered": len(filtered), "raw_log": statistics.median(raw_logs),
            "raw_search": statistics.median(raw_searches)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hpod", required=True)
    parser.add_argument("--mlflow", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--points", type=int, default=10000)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)

    results = {}
    for name, start in [("hpod", lambda: start_hpod(args.hpod, args.work)),
                        ("mlflow server", lambda: start_mlflow(args.mlflow, args.work))]:
        print(f"==> {name}: 1 run with 50 params and {args.points} points, then {args.runs} runs searched")
        uri, process = start()
        try:
            results[name] = workload(uri, args.runs, args.points)
        finally:
            stop(process)
    hpod, peer = results["hpod"], results["mlflow server"]
    assert hpod["filtered"] == peer["filtered"], (hpod["filtered"], peer["filtered"])
    print()
    print("| work | hpod | mlflow server | ratio |")
    print("|---|---|---|---|")
    for key, label in [("logging", f"log 50 params + {args.points} points (log-batch)"),
                       ("search", f"search_runs over {args.runs} runs (median of 3)"),
                       ("filter", f"search_runs with a filter and order_by ({hpod['filtered']} match)"),
                       ("creating", f"create {args.runs} runs, 8 threads"),
                       ("raw_log", "server alone: one log-batch of 1,000 metrics (raw HTTP, median of 5)"),
                       ("raw_search", f"server alone: runs/search over {args.runs} runs, all pages (raw HTTP)")]:
        print(f"| {label} | {hpod[key]:.3f} s | {peer[key]:.3f} s | {peer[key] / hpod[key]:.1f}x |")


if __name__ == "__main__":
    main()
