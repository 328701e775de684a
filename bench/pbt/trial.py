#!/usr/bin/env python3
"""A PBT trial program for hpod: trains PROBLEM (problems.py) for STEPS steps.

    trial.py PROBLEM STEPS [--NAME VALUE ...]

Hyperparameters: `--h0 0.3 --h1 0.7` (toy) or `--lr 0.01 --alpha 1e-4` (digits) on the
command line, or else the JSON object in $HPOD_PARAMS_FILE or $HPOD_PARAMS, as hpod passes
them. Each step prints `hpod {"score": v, "step": t}`. With a checkpoint folder
($HPOD_CHECKPOINT_DIR) each step's state is saved there as `step-T` (before its score line)
and reported as `hpod {"checkpoint": "step-T", "step": T}`; started with HPOD_RESUMED=1 and
HPOD_CHECKPOINT (the checkpoint to go on from: this trial's own or, under PBT, a better
member's), it loads that state and trains the steps after it with its own, maybe new,
hyperparameters. $HPOD_SEED seeds the model's initialisation (digits). When $BENCH_STEP_LOG
names a file, each step played appends a line to it, and a resume `# resumed at T`.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402


def parameters(problem, extra):
    names = list(problems.SPACES[problem])
    parser = argparse.ArgumentParser()
    for name in names:
        parser.add_argument(f"--{name}", type=float)
    given = vars(parser.parse_args(extra))
    if any(given[name] is None for name in names):
        text = None
        if os.environ.get("HPOD_PARAMS_FILE"):
            with open(os.environ["HPOD_PARAMS_FILE"]) as f:
                text = f.read()
        text = text or os.environ.get("HPOD_PARAMS")
        from_env = json.loads(text) if text else {}
        for name in names:
            if given[name] is None:
                if name not in from_env:
                    sys.exit(f"trial.py: no value for {name} (argv --{name} or HPOD_PARAMS)")
                given[name] = float(from_env[name])
    return given


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in problems.PROBLEMS:
        sys.exit(f"usage: trial.py {{{'|'.join(problems.PROBLEMS)}}} STEPS [--NAME VALUE ...]")
    problem, steps = sys.argv[1], int(sys.argv[2])
    params = parameters(problem, sys.argv[3:])
    init, step, score = problems.PROBLEMS[problem]
    folder = os.environ.get("HPOD_CHECKPOINT_DIR")
    played = os.environ.get("BENCH_STEP_LOG")
    if os.environ.get("HPOD_RESUMED") == "1" and os.environ.get("HPOD_CHECKPOINT"):
        state = problems.load(os.environ["HPOD_CHECKPOINT"])
        if played:
            with open(played, "a") as f:
                f.write(f"# resumed at {state['step']}\n")
    else:
        state = init(int(os.environ.get("HPOD_SEED", "0")))
    while state["step"] < steps:
        state = step(state, params)
        t = state["step"]
        if played:
            with open(played, "a") as f:
                f.write(f"{t}\n")
        if folder:
            name = f"step-{t}"
            temporary = os.path.join(folder, f".{name}.tmp")
            problems.save(state, temporary)
            os.replace(temporary, os.path.join(folder, name))
            print("hpod " + json.dumps({"checkpoint": name, "step": t}), flush=True)
        print("hpod " + json.dumps({"score": score(state), "step": t}), flush=True)


if __name__ == "__main__":
    main()
