#!/usr/bin/env python3
"""The peer: the same metric points sent to a real MLflow tracking server with log-batch.

Starts `mlflow server` (SQLite backend, one worker, as MLflow's docs set up a local server),
creates one experiment with 50 runs, and sends --points points with MlflowClient.log_batch,
--per-write points per call, to the runs in turn. Prints one JSON object like bench-tracking.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("--per-write", type=int, default=5)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-tracking-mlflow-")
    port = free_port()
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
    server = subprocess.Popen(
        [mlflow, "server", "--backend-store-uri", f"sqlite:///{work}/mlflow.db", "--artifacts-destination",
         f"{work}/artifacts", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        uri = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if urllib.request.urlopen(uri + "/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.25)
        else:
            sys.exit("mlflow server did not start")
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient

        client = MlflowClient(uri)
        experiment = client.create_experiment("bench-tracking")
        runs = [client.create_run(experiment).info.run_id for _ in range(50)]
        names = [f"metric_{i % 8}" for i in range(max(args.per_write, 1))]
        # Warm the connection and the server's code paths.
        client.log_batch(runs[0], metrics=[Metric("warmup", 0.0, 0, 0)])

        started = time.perf_counter()
        sent = write = 0
        while sent < args.points:
            count = min(args.per_write, args.points - sent)
            run = runs[write % len(runs)]
            step = write // len(runs)
            now = int(time.time() * 1000)
            metrics = [Metric(names[i], (sent + i) * 0.001, now,
                              step * (args.per_write // 8) + i // 8 if args.per_write >= 8 else step)
                       for i in range(count)]
            client.log_batch(run, metrics=metrics, synchronous=True)
            sent += count
            write += 1
        seconds = time.perf_counter() - started
        print(json.dumps({"points": args.points, "per_write": args.per_write, "seconds": seconds,
                          "points_per_second": args.points / seconds}))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
