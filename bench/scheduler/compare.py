#!/usr/bin/env python3
"""hpod vs Optuna: end-to-end trial throughput and hpod's peak memory.

Both sides run N trials of the same no-op command (/bin/echo printing one metric line),
one OS process per trial, J at a time, every trial persisted in SQLite:
  * hpod:   `hpod run --plain study.yaml` (release build) on a fresh HPOD_HOME;
  * Optuna: optuna_peer.py (RDB storage on a fresh SQLite file, n_jobs=J threads).
Wall time covers the whole run. hpod's peak RSS comes from wait4() on its process.
Prints a table and the ratio.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMMAND = ["/bin/echo", 'hpod {"score": 1}']

STUDY = """name: bench-{trials}
objective: {{metric: score, direction: maximize}}
search: {{algorithm: random, seed: 0, max_trials: {trials}, parallelism: {jobs}}}
parameters:
  x: {{type: float, min: 0, max: 1}}
  n: {{type: int, min: 1, max: 100}}
trial:
  command: {command}
"""


def run_hpod(binary, trials, jobs, work):
    home = os.path.join(work, f"hpod-home-{trials}")
    shutil.rmtree(home, ignore_errors=True)
    spec = os.path.join(work, f"study-{trials}.yaml")
    with open(spec, "w") as f:
        f.write(STUDY.format(trials=trials, jobs=jobs, command=json.dumps(COMMAND)))
    env = dict(os.environ, HPOD_HOME=home)
    started = time.monotonic()
    process = subprocess.Popen([binary, "run", "--plain", spec], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    if status != 0:
        sys.exit(f"hpod failed ({status}): {process.stderr.read().decode()[-2000:]}")
    completed = subprocess.run(
        ["sqlite3", os.path.join(home, "hpod.sqlite"), "SELECT COUNT(*) FROM trial WHERE state='completed'"],
        capture_output=True, text=True).stdout.strip() if shutil.which("sqlite3") else str(trials)
    return {"system": "hpod", "trials": trials, "jobs": jobs, "seconds": seconds,
            "trials_per_second": trials / seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "completed": completed}


def run_optuna(python, trials, jobs, work):
    out = subprocess.run(
        [python, os.path.join(HERE, "optuna_peer.py"), "--trials", str(trials), "--jobs", str(jobs),
         "--storage-dir", os.path.join(work, "optuna"), "--command", json.dumps(COMMAND)],
        capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"optuna peer failed: {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"system": f"optuna {result['version']}", "trials": trials, "jobs": jobs, "seconds": result["seconds"],
            "trials_per_second": result["trials_per_second"], "peak_rss_mb": result["peak_rss_mb"],
            "completed": str(result.get("completed", trials))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hpod", required=True, help="path to a release build of hpod")
    parser.add_argument("--python", required=True, help="python with optuna installed")
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--small", type=int, default=100, help="the small run, for memory growth")
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="hpod-bench-scheduler-")
    try:
        rows = [run_hpod(args.hpod, args.small, args.jobs, work),
                run_hpod(args.hpod, args.trials, args.jobs, work),
                run_optuna(args.python, args.trials, args.jobs, work)]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nScheduler throughput: no-op trials ({' '.join(COMMAND)}), one process each, "
          f"{args.jobs} at a time, SQLite storage ({os.cpu_count()} cores)\n")
    print(f"| {'system':<14} | {'trials':>6} | {'completed':>9} | {'seconds':>8} | {'trials/s':>9} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 16}|{'-' * 8}|{'-' * 11}|{'-' * 10}|{'-' * 11}|{'-' * 13}|")
    for row in rows:
        print(f"| {row['system']:<14} | {row['trials']:>6} | {row['completed']:>9} | {row['seconds']:>8.2f} | "
              f"{row['trials_per_second']:>9.1f} | {row['peak_rss_mb']:>11.1f} |")
    hpod, optuna = rows[1], rows[2]
    print(f"\nhpod / Optuna throughput at {args.trials} trials: "
          f"{hpod['trials_per_second'] / optuna['trials_per_second']:.1f}x")
    print(f"hpod peak RSS, {args.trials} vs {args.small} trials: "
          f"{hpod['peak_rss_mb']:.1f} MB vs {rows[0]['peak_rss_mb']:.1f} MB "
          f"({hpod['peak_rss_mb'] / rows[0]['peak_rss_mb']:.2f}x)")


if __name__ == "__main__":
    main()
