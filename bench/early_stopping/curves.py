#!/usr/bin/env python3
"""A seeded family of learning curves, and a trial program that plays one.

Every configuration x in [0, 1] owns one curve, drawn from a generator seeded by x, so hpod,
Optuna and Ray Tune see exactly the same curve for the same configuration:
  * ~15% good: high final accuracy, learned fast;
  * ~65% bad: low final accuracy;
  * ~20% late bloomers: the best final accuracies, but slow starters that look bad early.
val_accuracy(epoch) = final * (1 - exp(-epoch / tau)) + small noise (also seeded).

As a program: `curves.py X EPOCHS [PAUSE]` prints `hpod {"step": e, "val_accuracy": v}` per
epoch, sleeping PAUSE seconds (0.01) per epoch as a stand-in for training.

Checkpoints, as a real training saves them: when hpod gives the trial a checkpoint folder
($HPOD_CHECKPOINT_DIR), each epoch is saved there as `epoch-N` (the configuration and the
epoch) and reported with `hpod {"checkpoint": "epoch-N", "step": N}` BEFORE that epoch's
metric line, so a rule that pauses the trial on that line finds the epoch saved. Started with
HPOD_RESUMED=1 and HPOD_CHECKPOINT (the last reported checkpoint), it goes on after the epoch
saved there. Without a checkpoint folder it only plays its curve.

When $BENCH_EPOCH_LOG names a file, every epoch played (a replayed one too) appends one line
`x epoch` to it: the bench's count of epochs spent, whatever the store keeps of the history;
an attempt that resumes from a checkpoint appends `# resumed x epoch` first.
"""

import json
import math
import os
import random
import sys
import time


def curve(x, epochs):
    rng = random.Random(int(x * 1_000_000_007))
    kind = rng.random()
    if kind < 0.15:
        final, tau = rng.uniform(0.86, 0.93), rng.uniform(1.5, 3.5)
    elif kind < 0.80:
        final, tau = rng.uniform(0.35, 0.80), rng.uniform(1.0, 5.0)
    else:
        final, tau = rng.uniform(0.88, 0.97), rng.uniform(6.0, 12.0)
    return [final * (1 - math.exp(-e / tau)) + rng.gauss(0, 0.004) for e in range(1, epochs + 1)]


def log_played(x, epoch, note=""):
    """Appends one played epoch to $BENCH_EPOCH_LOG (one short O_APPEND write: trials share it)."""
    path = os.environ.get("BENCH_EPOCH_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{note}{x!r} {epoch}\n")


def resumed_epoch(x):
    """The epoch saved in the checkpoint this attempt resumes from, or 0 for a fresh start."""
    if os.environ.get("HPOD_RESUMED") != "1" or not os.environ.get("HPOD_CHECKPOINT"):
        return 0
    with open(os.environ["HPOD_CHECKPOINT"]) as f:
        state = json.load(f)
    if state["x"] != x:
        sys.exit(f"checkpoint {os.environ['HPOD_CHECKPOINT']} holds x={state['x']}, not {x}")
    step = os.environ.get("HPOD_CHECKPOINT_STEP")
    if step is not None and int(step) != state["epoch"]:
        sys.exit(f"HPOD_CHECKPOINT_STEP={step} but the checkpoint holds epoch {state['epoch']}")
    return state["epoch"]


def save(folder, x, epoch):
    """Writes epoch-N atomically (a rename), so a trial stopped mid-write leaves no torn file."""
    name = f"epoch-{epoch}"
    temporary = os.path.join(folder, f".{name}.tmp")
    with open(temporary, "w") as f:
        json.dump({"x": x, "epoch": epoch}, f)
    os.replace(temporary, os.path.join(folder, name))
    return name


def main():
    x, epochs = float(sys.argv[1]), int(sys.argv[2])
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.01
    folder = os.environ.get("HPOD_CHECKPOINT_DIR")
    start = resumed_epoch(x)
    if start:
        log_played(x, start, note="# resumed ")
    values = curve(x, epochs)
    for step in range(start + 1, epochs + 1):
        time.sleep(pause)
        log_played(x, step)
        if folder:
            name = save(folder, x, step)
            print("hpod " + json.dumps({"checkpoint": name, "step": step}), flush=True)
        print("hpod " + json.dumps({"step": step, "val_accuracy": round(values[step - 1], 6)}), flush=True)


if __name__ == "__main__":
    main()
