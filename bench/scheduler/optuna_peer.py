#!/usr/bin/env python3
"""Optuna side of the scheduler throughput benchmark.

hpod's side runs N trials of a no-op command (`/bin/true`) at parallelism J and
records every trial in its SQLite store. This script makes Optuna do the same
work the way an Optuna user would do it on one machine:

  * RDB storage in a fresh SQLite file (sqlite:///DIR/optuna.db), so every
    trial is persisted, as hpod persists its trials;
  * a RandomSampler(seed=0) and two parameters per trial
    (x: float in [0, 1], n: int in [1, 100]);
  * an objective that launches one subprocess per trial,
    subprocess.run(["/bin/true"], check=True), and returns x (--command takes
    another argv as a JSON array; its stdout is discarded, as hpod only parses it);
  * study.optimize(objective, n_trials=N, n_jobs=J) (a thread pool of J).

Wall time is measured from study creation to the end of optimize(). The script
prints ONE JSON line on stdout:

  {"peer": "optuna", "version": ..., "trials": N, "jobs": J, "completed": N,
   "command": [...], "seconds": s, "trials_per_second": N/s, "peak_rss_mb": ...}

Usage (from the repository root):
  python3 -m venv bench/.work/venv
  bench/.work/venv/bin/pip install -r bench/scheduler/requirements.txt
  bench/.work/venv/bin/python bench/scheduler/optuna_peer.py \\
      --trials 2000 --jobs 8 --storage-dir bench/.work/optuna
"""

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import time
import warnings


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def command_argv(text):
    try:
        value = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a JSON array of strings: {error}") from None
    if not (isinstance(value, list) and value and all(isinstance(item, str) for item in value)):
        raise argparse.ArgumentTypeError('expected a non-empty JSON array of strings, e.g. ["/bin/true"]')
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description="Optuna peer for the hpod scheduler throughput benchmark.")
    parser.add_argument("--trials", type=positive_int, default=2000, help="number of trials (default 2000)")
    parser.add_argument("--jobs", type=positive_int, default=8, help="parallel jobs, optimize(n_jobs=) (default 8)")
    parser.add_argument("--storage-dir", required=True,
                        help="directory for optuna.db (created if missing; an existing optuna.db is replaced)")
    parser.add_argument("--command", type=command_argv, default=["/bin/true"],
                        help='the per-trial command as a JSON argv array (default ["/bin/true"]); '
                             "compare.py passes the same command it gives hpod")
    args = parser.parse_args(argv)

    try:
        import optuna
    except ImportError:
        print("optuna_peer: optuna is not installed; run "
              "bench/.work/venv/bin/pip install -r bench/scheduler/requirements.txt", file=sys.stderr)
        return 2

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.logging.disable_default_handler()
    logging.getLogger("optuna").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    os.makedirs(args.storage_dir, exist_ok=True)
    db_path = os.path.abspath(os.path.join(args.storage_dir, "optuna.db"))
    for suffix in ("", "-wal", "-shm", "-journal"):  # a fresh file every run
        try:
            os.remove(db_path + suffix)
        except FileNotFoundError:
            pass

    command = args.command

    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_int("n", 1, 100)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return x

    start = time.perf_counter()
    study = optuna.create_study(
        study_name="hpod-scheduler-bench",
        storage=f"sqlite:///{db_path}",
        sampler=optuna.samplers.RandomSampler(seed=0),
        direction="minimize",
    )
    study.optimize(objective, n_trials=args.trials, n_jobs=args.jobs)
    seconds = time.perf_counter() - start

    complete = sum(1 for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE)
    if complete != args.trials:
        print(f"optuna_peer: expected {args.trials} complete trials, found {complete}", file=sys.stderr)
        return 1

    # ru_maxrss is in KiB on Linux.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "peer": "optuna",
        "version": optuna.__version__,
        "trials": args.trials,
        "jobs": args.jobs,
        "completed": complete,
        "command": args.command,
        "seconds": round(seconds, 3),
        "trials_per_second": round(args.trials / seconds, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
