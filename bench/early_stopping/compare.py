#!/usr/bin/env python3
"""Early stopping: epochs spent and best final value, hpod's rules beside Optuna's pruners
and Ray Tune's schedulers.

hpod runs the same 60-trial random study (same seed, so the same configurations) once per
rule, 4 trials at a time, each trial a process playing its curve (curves.py) and saving a
checkpoint each epoch. Optuna plays the same configurations in the same order through its
pruners; Ray Tune through ASHAScheduler and HyperBandScheduler (ray_peer.py, in its own venv).
"best" is the best final val_accuracy among trials that ran all their epochs; "epochs" counts
every epoch played, an epoch played again after a resume included (the trials append each
epoch they play to a file: the store keeps a resumed trial's history without the replays).
A rule this hpod refuses (`hpod validate`) gets a row saying so.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = {
    "no stopping": None,
    "median": "{rule: median, min_steps: 3, min_trials: 5}",
    "patience": "{rule: patience, patience: 3, min_delta: 0.002}",
    "asha": "{rule: asha, min_resource: 1, max_resource: %(epochs)d, reduction_factor: 3}",
    "asha min_resource 3": "{rule: asha, min_resource: 3, max_resource: %(epochs)d, reduction_factor: 3}",
    "hyperband": "{rule: hyperband, min_resource: 1, max_resource: %(epochs)d, reduction_factor: 3}",
    # Pause at each rung and resume the promoted trials from their checkpoints (issue 35 item 4).
    "asha pause": "{rule: asha, min_resource: 1, max_resource: %(epochs)d, reduction_factor: 3, pause: true}",
    "hyperband pause": "{rule: hyperband, min_resource: 1, max_resource: %(epochs)d, reduction_factor: 3, "
                       "pause: true}",
}
# Rules that resume trials from checkpoints keep the last one only.
CHECKPOINTS = {"asha pause": "{keep: 1}", "hyperband pause": "{keep: 1}"}


def study_yaml(name, rule, trials, epochs, parallelism, checkpoint=None):
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
    if checkpoint:
        text += f"checkpoint: {checkpoint}\n"
    return text


def refusal(binary, spec):
    """What `hpod validate` says against the spec, or None when this hpod accepts it."""
    result = subprocess.run([binary, "validate", spec], capture_output=True, text=True)
    if result.returncode == 0:
        return None
    lines = (result.stderr or result.stdout).strip().splitlines()
    if not lines:
        return f"exit {result.returncode}"
    # "  /tmp/.../name.yaml:8:86: early_stopping.pause: unknown key ..." without the temporary path
    return lines[-1].strip().split(".yaml:", 1)[-1].split(": ", 1)[-1]


def played_epochs(path):
    """Epochs the trials played and resumes from a checkpoint, from the lines they appended
    (one per epoch played, one `# resumed ...` per resume)."""
    if not os.path.exists(path):
        return 0, 0
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    resumes = sum(1 for line in lines if line.startswith("#"))
    return len(lines) - resumes, resumes


def run_hpod(binary, home, name, rule, trials, epochs, parallelism, work, checkpoint=None):
    spec = os.path.join(work, f"{name}.yaml")
    with open(spec, "w") as f:
        f.write(study_yaml(name, rule, trials, epochs, parallelism, checkpoint))
    refused = refusal(binary, spec)
    if refused:
        return {"rule": f"hpod {name}", "refused": refused}, None
    played = os.path.join(work, f"{name}.played")
    started = time.monotonic()
    result = subprocess.run([binary, "run", "--plain", spec],
                            env=dict(os.environ, HPOD_HOME=home, BENCH_EPOCH_LOG=played),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - started
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
    # One configuration may have several trial records (a trial paused at a rung and resumed
    # can be a new attempt of it, its history continued): count configurations.
    configs = {}
    for number, state, params, last_step, last_value in rows:
        config = configs.setdefault(params, {"x": json.loads(params)["x"], "step": 0, "value": None, "states": set()})
        config["states"].add(state)
        if last_step is not None and last_step >= config["step"]:
            config["step"], config["value"] = last_step, last_value
    stored = sum(c["step"] for c in configs.values())
    spent, resumes = played_epochs(played)
    if spent < stored:
        sys.exit(f"hpod {name}: the trials logged {spent} epochs played but the store holds {stored}: "
                 "did the trials see BENCH_EPOCH_LOG?")
    finals = [c["value"] for c in configs.values() if c["step"] == epochs and "completed" in c["states"]]
    xs = [c["x"] for c in configs.values()]
    pruned = sum(1 for c in configs.values() if c["step"] < epochs)
    return {"rule": f"hpod {name}", "epochs": spent, "best": max(finals) if finals else None, "pruned": pruned,
            "trials": len(configs), "resumes": resumes, "wall": round(wall, 1)}, xs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hpod", required=True)
    parser.add_argument("--python", required=True, help="python with optuna installed")
    parser.add_argument("--ray-python", help="python with ray[tune] installed (no Ray rows without it)")
    parser.add_argument("--rules", help="comma-separated names of RULES to run (default: all)")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--parallelism", type=int, default=4)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="hpod-bench-es-")
    home = os.path.join(work, "home")
    rows = []
    xs = None
    try:
        chosen = args.rules.split(",") if args.rules else list(RULES)
        for name in ["no stopping"] + [n for n in chosen if n != "no stopping"]:
            row, tried = run_hpod(args.hpod, home, name.replace(" ", "-"), RULES[name], args.trials, args.epochs,
                                  args.parallelism, work, CHECKPOINTS.get(name))
            rows.append(row)
            xs = xs or tried
            print(f"  ran hpod {name}" + (f": refused ({row['refused']})" if "refused" in row else ""),
                  file=sys.stderr)
        peers = [("optuna", os.path.abspath(args.python), "optuna_peer.py")]
        if args.ray_python:
            peers.append(("ray", os.path.abspath(args.ray_python), "ray_peer.py"))
        for peer_name, python, script in peers:
            started = time.monotonic()
            peer = subprocess.run([python, os.path.join(HERE, script), str(args.epochs)],
                                  input=json.dumps(xs), capture_output=True, text=True, cwd=HERE,
                                  env=dict(os.environ, BENCH_PARALLELISM=str(args.parallelism)))
            if peer.returncode != 0:
                sys.exit(f"{peer_name} peer failed: {peer.stderr[-3000:]}")
            # Ray prints lines of its own on stdout: its peer marks its rows.
            rows += [json.loads(line.removeprefix("ROW ")) for line in peer.stdout.splitlines()
                     if line.startswith("{") or line.startswith("ROW {")]
            print(f"  ran {peer_name} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    baseline = rows[0]
    versions = sorted({f"{row['rule'].split()[0]} {row['version']}" for row in rows if "version" in row})
    print(f"\nEarly stopping: {args.trials} trials of a seeded curve family (good, bad, late bloomers), "
          f"{args.epochs} epochs each; hpod and Ray {args.parallelism} at a time, Optuna sequential (in process, "
          f"no wall time) on the same configurations; {', '.join(versions)}\n")
    print(f"| {'rule':<44} | {'pruned':>6} | {'resumes':>7} | {'epochs':>6} | {'epochs vs none':>14} | "
          f"{'best final':>10} | {'best vs none':>12} | {'wall s':>6} |")
    print(f"|{'-' * 46}|{'-' * 8}|{'-' * 9}|{'-' * 8}|{'-' * 16}|{'-' * 12}|{'-' * 14}|{'-' * 8}|")
    for row in rows:
        if "refused" in row:
            print(f"| {row['rule']:<44} | not available in this hpod ({row['refused'][:100]}) |")
            continue
        best = f"{row['best']:.4f}" if row["best"] is not None else "-"
        gap = f"{(row['best'] / baseline['best'] - 1) * 100:+.2f}%" if row["best"] is not None else "-"
        wall = f"{row['wall']:.1f}" if row.get("wall") is not None else "-"
        resumes = row.get("resumes", "-")
        print(f"| {row['rule']:<44} | {row['pruned']:>6} | {resumes:>7} | {row['epochs']:>6} | "
              f"{row['epochs'] / baseline['epochs'] * 100:>13.1f}% | {best:>10} | {gap:>12} | {wall:>6} |")


if __name__ == "__main__":
    main()
