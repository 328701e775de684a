#!/usr/bin/env python3
"""hpod's embedded store vs MLflow log-batch: metric points ingested per second, one run.

Two shapes of writes, the same points on both sides:
  * 5 points per write: one report line of a trial (a few metrics per epoch), as hpod's
    scheduler writes it and as a trainer calls mlflow.log_metrics once per epoch;
  * 1000 points per write: MLflow's log-batch maximum, its best case.
hpod: the bench-tracking release binary (one SQLite transaction per write, WAL).
MLflow: mlflow_peer.py, MlflowClient.log_batch against a local `mlflow server` (SQLite).
"""

import argparse
import json
import subprocess
import sys

HERE = __import__("os").path.dirname(__import__("os").path.abspath(__file__))


def run(command):
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{command[0]} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hpod", required=True, help="the bench-tracking binary")
    parser.add_argument("--python", required=True, help="a python with mlflow")
    parser.add_argument("--hpod-points", type=int, default=200000)
    parser.add_argument("--mlflow-points-small", type=int, default=5000)
    parser.add_argument("--mlflow-points-large", type=int, default=100000)
    args = parser.parse_args()

    rows = []
    for per_write, mlflow_points in [(5, args.mlflow_points_small), (1000, args.mlflow_points_large)]:
        hpod = run([args.hpod, "--points", str(args.hpod_points), "--per-write", str(per_write)])
        peer = run([args.python, f"{HERE}/mlflow_peer.py", "--points", str(mlflow_points),
                    "--per-write", str(per_write)])
        rows.append((per_write, hpod, peer))

    print()
    print("Metric ingestion, points per second (higher is better)")
    print(f"{'points per write':<18}{'hpod embedded':>16}{'MLflow log-batch':>18}{'hpod / MLflow':>15}")
    for per_write, hpod, peer in rows:
        ratio = hpod["points_per_second"] / peer["points_per_second"]
        print(f"{per_write:<18}{hpod['points_per_second']:>16,.0f}{peer['points_per_second']:>18,.0f}{ratio:>14.1f}x")
    print()
    for per_write, hpod, peer in rows:
        print(f"  {per_write} per write: hpod {hpod['points']:,} points in {hpod['seconds']:.2f} s; "
              f"MLflow {peer['points']:,} points in {peer['seconds']:.2f} s")
    worst = min(h["points_per_second"] / p["points_per_second"] for _, h, p in rows)
    print(f"\ntarget: embedded ingestion >= 25x MLflow's: {'met' if worst >= 25 else 'MISSED'} "
          f"(lowest ratio {worst:.1f}x)")


if __name__ == "__main__":
    main()
