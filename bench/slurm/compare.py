#!/usr/bin/env python3
"""hpod's Slurm executor: per-trial overhead and throughput, beside local processes and
plain sbatch submission of the same jobs, on the cluster SLURM_CONF names.

Every trial is the same short program: it prints a timestamped first metric at once, sleeps
0.5 s, prints its last metric and writes the time it ended to a file. Measured:
  * submit to first metric: from the trial's row getting its job (hpod) or sbatch returning
    (plain) to the first metric being in hpod's store (hpod) or visible in the job's output
    file to a watcher polling it every 0.1 s (plain);
  * end of job to trial recorded: from the program's last line to the trial's finished row;
  * trials per second: N trials, J at a time, wall time of the whole run.
The plain side is what a user would script without hpod: J threads each submitting
`sbatch --wait` jobs in turn.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

TRIAL = """#!/bin/sh
python3 -c 'import time; print("hpod {\\"step\\": 0, \\"score\\": 0.1, \\"t\\": %.6f}" % time.time(), flush=True)'
sleep 0.5
echo 'hpod {"step": 1, "score": 1}'
python3 -c 'import time; print("%.6f" % time.time())' > "${HPOD_ARTIFACT_DIR:-$PWD}/ended"
"""

STUDY = """name: bench-slurm-{kind}
objective: {{metric: score, direction: maximize}}
search: {{algorithm: random, seed: 0, max_trials: {trials}, parallelism: {jobs}}}
parameters:
  x: {{type: float, min: 0, max: 1}}
trial:
  command: [{trial}]
{executor}
"""


def run_hpod(binary, kind, trials, jobs, poll, work):
    home = os.path.join(work, f"home-{kind}")
    shutil.rmtree(home, ignore_errors=True)
    spec = os.path.join(work, f"study-{kind}.yaml")
    executor = f"executor: {{kind: slurm, poll_interval: {poll}}}" if kind == "slurm" else ""
    with open(spec, "w") as f:
        f.write(STUDY.format(kind=kind, trials=trials, jobs=jobs, trial=os.path.join(work, "trial.sh"),
                             executor=executor))
    started = time.monotonic()
    result = subprocess.run([binary, "run", "--plain", spec], env=dict(os.environ, HPOD_HOME=home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"hpod ({kind}) failed: {result.stderr.decode()[-2000:]}")
    db = sqlite3.connect(os.path.join(home, "hpod.sqlite"))
    rows = db.execute("SELECT id, state, createdAt, finishedAt, runDirectory FROM trial").fetchall()
    completed = sum(1 for row in rows if row[1] == "completed")
    first_metric, recorded = [], []
    for trial_id, _, created, finished, directory in rows:
        # The first metric's own clock (printed by the trial) against when hpod stored it.
        point = db.execute("SELECT timestamp FROM metric WHERE trialId = ? AND name = 'score' ORDER BY step LIMIT 1",
                           (trial_id,)).fetchone()
        ended_file = os.path.join(directory, "artifacts", "ended")
        if point is None or not os.path.exists(ended_file):
            continue
        submitted = parse_time(created)
        first_metric.append(point[0] / 1000 - submitted)
        recorded.append(parse_time(finished) - float(open(ended_file).read()))
    return {"seconds": seconds, "completed": completed, "first_metric": first_metric, "recorded": recorded}


def parse_time(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run_plain(trials, jobs, work):
    """J threads, each submitting `sbatch --wait` jobs in turn; a watcher per job notes when
    its first metric line shows in its output file."""
    folder = os.path.join(work, "plain")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    script = os.path.join(work, "trial.sh")
    first_metric, recorded, lock = [], [], threading.Lock()
    queue = list(range(trials))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                number = queue.pop()
            out = os.path.join(folder, f"{number}.out")
            artifacts = os.path.join(folder, f"{number}")
            os.makedirs(artifacts)
            env = dict(os.environ, HPOD_ARTIFACT_DIR=artifacts)
            before = time.time()
            process = subprocess.Popen(["sbatch", "--wait", "--parsable", f"--output={out}", script], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            seen = None
            while process.poll() is None:
                if seen is None and os.path.exists(out) and "hpod" in open(out).read():
                    seen = time.time()
                time.sleep(0.1)
            done = time.time()
            if process.returncode != 0:
                sys.exit(f"sbatch failed: {process.stderr.read().decode()}")
            with lock:
                if seen is not None:
                    first_metric.append(seen - before)
                recorded.append(done - float(open(os.path.join(artifacts, "ended")).read()))

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"seconds": time.monotonic() - started, "completed": trials, "first_metric": first_metric,
            "recorded": recorded}


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hpod", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--poll", default="500ms")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    trial = os.path.join(args.work, "trial.sh")
    with open(trial, "w") as f:
        f.write(TRIAL)
    os.chmod(trial, 0o755)

    print(f"==> {args.trials} trials, {args.jobs} at a time; hpod polls Slurm every {args.poll}")
    results = {}
    print("==> hpod, Slurm executor")
    results["hpod on Slurm"] = run_hpod(args.hpod, "slurm", args.trials, args.jobs, args.poll, args.work)
    print("==> hpod, local processes")
    results["hpod local"] = run_hpod(args.hpod, "local", args.trials, args.jobs, args.poll, args.work)
    print("==> plain sbatch --wait, one thread per slot")
    results["plain sbatch"] = run_plain(args.trials, args.jobs, args.work)

    print()
    print(f"| {'runner':<14} | {'trials/s':>8} | {'submit → first metric (median)':>31} | "
          f"{'job end → recorded (median)':>28} | completed |")
    print(f"|{'-' * 16}|{'-' * 10}|{'-' * 33}|{'-' * 30}|-----------|")
    for name, result in results.items():
        print(f"| {name:<14} | {args.trials / result['seconds']:>8.2f} | "
              f"{median(result['first_metric']):>29.2f} s | {median(result['recorded']):>26.2f} s | "
              f"{result['completed']:>9} |")
    slurm, local, plain = results["hpod on Slurm"], results["hpod local"], results["plain sbatch"]
    print()
    print(f"hpod on Slurm: {plain['seconds'] / slurm['seconds']:.2f}x the trials/s of plain sbatch --wait, "
          f"{local['seconds'] / slurm['seconds']:.2f}x those of local processes")


if __name__ == "__main__":
    main()
