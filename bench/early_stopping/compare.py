#!/usr/bin/env python3
"""Early stopping: epochs spent and best final value, hpod's rules beside Optuna's pruners.

hpod runs the same 60-trial random study (same seed, so the same configurations) once per
rule, 4 trials at a time, each trial a process playing its curve (curves.py). Optuna plays the
same configurations in the same order through its pruners. "best" is the best final
val_accuracy among trials that ran all their epochs; "epochs" counts every epoch played.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = {
    "no stopping": None,
    "median": "{rule: median, min_steps: 3, min_trials: 5}",
    "patience": "{rule: patience, patience: 3, min_delta: 0.002}",
    "asha": "{rule: asha, min_resource: 1, max_resource: %(epochs)d, reduction_factor: 3}",
    "asha min_resource 3": "{rule: asha, min_resource: 3, max_resource: %(epochs)d, reduction_factor: 3}",
    "hyperband": "{rule: hyperband, min_resource: 1, max_resource: %(epochs)d, reduction_factor: 3}",
}


def study_yaml(name, rule, trials, epochs, parallelism):
    text = f"""name: {name}
objective: {{metric: val_accuracy, direction: maximize}}
search: {{algorithm: random, seed: 5, max_trials: {trials}, parallelism: {parallelism}}}
parameters:
  x: {{type: float, min: 0, max: 1}}
trial:
  command: [python3, {json.dumps(os.path.join(HERE, 'curves.py'))}, "{{x}}", "{epochs}"]
"""
    if rule:
        text += "early_stopping: " + (rule % {"epochs": epochs}) + "\n"
    return text


def run_hpod(binary, home, name, rule, trials, epochs, parallelism, work):
    spec = os.path.join(work, f"{name}.yaml")
    with open(spec, "w") as f:
        f.write(study_yaml(name, rule, trials, epochs, parallelism))
    result = subprocess.run([binary, "run", "--plain", spec], env=dict(os.environ, HPOD_HOME=home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"hpod failed on {name}: {result.stderr[-2000:]}")
    db = sqlite3.connect(os.path.join(home, "hpod.sqlite"))
    study = db.execute("SELECT id FROM study WHERE name = ? ORDER BY id DESC", (name,)).fetchone()[0]
    rows = db.execute(
        """SELECT t.number, t.state, t.paramsJSON,
                  (SELECT MAX(step) FROM metric m WHERE m.trialId = t.id AND m.name = 'val_accuracy'),
                  (SELECT value FROM metric m WHERE m.trialId = t.id AND m.name = 'val_accuracy'
                     ORDER BY step DESC LIMIT 1)
           FROM trial t WHERE t.studyId = ? ORDER BY t.number""", (study,)).fetchall()
    spent = sum(r[3] or 0 for r in rows)
    finals = [r[4] for r in rows if r[1] == "completed" and r[3] == epochs]
    xs = [json.loads(r[2])["x"] for r in rows]
    pruned = sum(1 for r in rows if r[1] == "pruned")
    return {"rule": f"hpod {name}", "epochs": spent, "best": max(finals) if finals else None, "pruned": pruned,
            "trials": len(rows)}, xs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hpod", required=True)
    parser.add_argument("--python", required=True, help="python with optuna installed")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--parallelism", type=int, default=4)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="hpod-bench-es-")
    home = os.path.join(work, "home")
    rows = []
    xs = None
    try:
        for name, rule in RULES.items():
            row, tried = run_hpod(args.hpod, home, name.replace(" ", "-"), rule, args.trials, args.epochs,
                                  args.parallelism, work)
            rows.append(row)
            xs = xs or tried
            print(f"  ran hpod {name}", file=sys.stderr)
        peer = subprocess.run([args.python, os.path.join(HERE, "optuna_peer.py"), str(args.epochs)],
                              input=json.dumps(xs), capture_output=True, text=True, cwd=HERE)
        if peer.returncode != 0:
            sys.exit(f"optuna peer failed: {peer.stderr[-2000:]}")
        rows += [json.loads(line) for line in peer.stdout.splitlines() if line.strip()]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    baseline = rows[0]
    print(f"\nEarly stopping: {args.trials} trials of a seeded curve family (good, bad, late bloomers), "
          f"{args.epochs} epochs each; hpod {args.parallelism} at a time, Optuna sequential on the same configurations\n")
    print(f"| {'rule':<38} | {'pruned':>6} | {'epochs':>6} | {'epochs vs none':>14} | {'best final':>10} | {'best vs none':>12} |")
    print(f"|{'-' * 40}|{'-' * 8}|{'-' * 8}|{'-' * 16}|{'-' * 12}|{'-' * 14}|")
    for row in rows:
        best = f"{row['best']:.4f}" if row["best"] is not None else "-"
        gap = f"{(row['best'] / baseline['best'] - 1) * 100:+.2f}%" if row["best"] is not None else "-"
        print(f"| {row['rule']:<38} | {row['pruned']:>6} | {row['epochs']:>6} | "
              f"{row['epochs'] / baseline['epochs'] * 100:>13.1f}% | {best:>10} | {gap:>12} |")


if __name__ == "__main__":
    main()
