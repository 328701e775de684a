#!/usr/bin/env python3
"""PBT: best final objective, steps trained and wall time; random search (no PBT), Ray Tune's
PopulationBasedTraining and hpod's PBT on the same two problems (problems.py).

Per problem (the PBT paper's toy, Q maximized, at most 1.2; an MLP on digits, validation
accuracy) and seed, each method trains a population of 8 for the problem's steps:
  * random (Ray): the population's initial configurations trained to the end, no exploit;
  * Ray PBT: PopulationBasedTraining, interval 4, quantile 0.25, resample 0.25, factors 0.8/1.2;
  * hpod random: `search: {algorithm: random, max_trials: 8}`, the same trial program;
  * hpod PBT: `search: {algorithm: pbt, population: 8, perturbation_interval: 4, ...}` with
    `checkpoint: {keep: 1}`, the same trial program (trial.py). Printed "not available in
    this hpod" when `hpod validate` refuses that spec.
Ray's and hpod's initial populations are each their own seeded draw from the same space.
"best final" is the best score at the last step over the population; "steps" counts every step
a trial played (replays after a resume included, logged by the trials themselves), "resumes"
the starts from a checkpoint (an exploit, or a member paused for another's turn going on).
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import problems  # noqa: E402

POPULATION = 8
PBT = ("{algorithm: pbt, seed: %(seed)d, population: 8, perturbation_interval: 4, quantile_fraction: 0.25, "
       "resample_probability: 0.25, perturbation_factors: [0.8, 1.2], parallelism: %(parallelism)d}")
RANDOM = "{algorithm: random, seed: %(seed)d, max_trials: 8, parallelism: %(parallelism)d}"


def parameters_yaml(problem):
    lines = []
    for name, (low, high, log) in problems.SPACES[problem].items():
        lines.append(f"  {name}: {{type: float, min: {low!r}, max: {high!r}{', log: true' if log else ''}}}")
    return "\n".join(lines)


def study_yaml(name, problem, search, python):
    command = [python, os.path.join(HERE, "trial.py"), problem, str(problems.STEPS[problem])]
    return f"""name: {name}
objective: {{metric: score, direction: maximize}}
search: {search}
parameters:
{parameters_yaml(problem)}
checkpoint: {{keep: 1}}
trial:
  command: {json.dumps(command)}
"""


def refusal(binary, spec):
    result = subprocess.run([binary, "validate", spec], capture_output=True, text=True)
    if result.returncode == 0:
        return None
    lines = (result.stderr or result.stdout).strip().splitlines()
    if not lines:
        return f"exit {result.returncode}"
    return lines[-1].strip().split(".yaml:", 1)[-1].split(": ", 1)[-1]


def run_hpod(binary, python, home, work, problem, method, seed, parallelism):
    name = f"pbt-{problem}-{method}-{seed}"
    template = PBT if method == "pbt" else RANDOM
    spec = os.path.join(work, f"{name}.yaml")
    with open(spec, "w") as f:
        f.write(study_yaml(name, problem, template % {"seed": seed, "parallelism": parallelism}, python))
    refused = refusal(binary, spec)
    if refused and method != "pbt":
        sys.exit(f"hpod refuses {spec}: {refused}")
    if refused:
        return {"problem": problem, "method": f"hpod {method}", "seed": seed, "refused": refused}
    played = os.path.join(work, f"{name}.played")
    started = time.monotonic()
    result = subprocess.run([binary, "run", "--plain", spec],
                            env=dict(os.environ, HPOD_HOME=home, BENCH_STEP_LOG=played),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"hpod failed on {name}: {result.stderr[-2000:]}")
    steps = problems.STEPS[problem]
    db = sqlite3.connect(os.path.join(home, "hpod.sqlite"))
    study = db.execute("SELECT id FROM study WHERE name = ? ORDER BY id DESC", (name,)).fetchone()[0]
    finals = [row[0] for row in db.execute(
        """SELECT m.value FROM metric m JOIN trial t ON t.id = m.trialId
           WHERE t.studyId = ? AND m.name = 'score' AND m.step = ?""", (study, steps))]
    with open(played) as f:
        lines = [line for line in f if line.strip()]
    trained = sum(1 for line in lines if not line.startswith("#"))
    return {"problem": problem, "method": f"hpod {method}", "seed": seed, "best": max(finals) if finals else None,
            "finished": len(finals), "steps": trained,
            "resumes": len(lines) - trained, "wall": round(wall, 1)}


def quartiles(values):
    values = sorted(values)
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hpod", required=True)
    parser.add_argument("--ray-python", required=True, help="python with ray[tune] and scikit-learn")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--problems", default="toy,digits")
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--skip-ray", action="store_true", help="hpod's rows only")
    parser.add_argument("--rows", help="also write every row as JSON lines to this file")
    args = parser.parse_args()

    seeds = list(range(args.seeds))
    python = os.path.abspath(args.ray_python)
    work = tempfile.mkdtemp(prefix="hpod-bench-pbt-")
    home = os.path.join(work, "home")
    rows = []
    try:
        for problem in args.problems.split(","):
            for method in ("random", "pbt"):
                for seed in seeds:
                    row = run_hpod(args.hpod, python, home, work, problem, method, seed, args.parallelism)
                    rows.append(row)
                    if "refused" in row:
                        print(f"  hpod {method} refused on {problem}: {row['refused']}", file=sys.stderr)
                        break
                    print(f"  ran hpod {method} {problem} seed {seed}", file=sys.stderr)
        if not args.skip_ray:
            started = time.monotonic()
            out = os.path.join(work, "ray-rows.jsonl")
            peer = subprocess.run([python, os.path.join(HERE, "ray_pbt.py"), "--problems", args.problems,
                                   "--seeds", ",".join(map(str, seeds)), "--population", str(POPULATION),
                                   "--parallelism", str(args.parallelism), "--out", out],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)
            if peer.returncode != 0:
                sys.exit(f"ray peer failed: {peer.stderr[-3000:]}")
            with open(out) as f:
                rows += [json.loads(line) for line in f if line.strip()]
            print(f"  ran ray ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.rows:
        with open(args.rows, "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")

    ray_version = next((row["version"] for row in rows if "version" in row), None)
    print(f"\nPBT: population {POPULATION}, {args.parallelism} trials at a time, seeds {seeds[0]}–{seeds[-1]}"
          + (f"; ray {ray_version}" if ray_version else "") + "\n")
    order = ["ray random", "ray pbt", "hpod random", "hpod pbt"]
    labels = {"ray random": "random, no PBT (Ray)", "ray pbt": "Ray PBT", "hpod random": "random, no PBT (hpod)",
              "hpod pbt": "hpod PBT"}
    print(f"| {'problem':<8} | {'method':<22} | {'best final: median':>18} | {'25th / 75th pct':>17} | "
          f"{'steps (median)':>14} | {'resumes (median)':>16} | {'wall s (median)':>15} |")
    print(f"|{'-' * 10}|{'-' * 24}|{'-' * 20}|{'-' * 19}|{'-' * 16}|{'-' * 18}|{'-' * 17}|")
    for problem in args.problems.split(","):
        for method in order:
            mine = [r for r in rows if r["problem"] == problem and r["method"] == method]
            if not mine:
                continue
            if any("refused" in r for r in mine):
                reason = next(r["refused"] for r in mine if "refused" in r)
                print(f"| {problem:<8} | {labels[method]:<22} | not available in this hpod ({reason[:90]}) |")
                continue
            q1, median, q3 = quartiles([r["best"] for r in mine if r["best"] is not None])
            steps = statistics.median(r["steps"] for r in mine)
            wall = statistics.median(r["wall"] for r in mine)
            resumes = statistics.median(r.get("resumes", 0) for r in mine)
            print(f"| {problem:<8} | {labels[method]:<22} | {median:>18.4f} | {q1:>7.4f} / {q3:<7.4f} | "
                  f"{steps:>14.0f} | {resumes:>16.0f} | {wall:>15.1f} |")


if __name__ == "__main__":
    main()
