#!/usr/bin/env python3
"""A seeded family of learning curves, and a trial program that plays one.

Every configuration x in [0, 1] owns one curve, drawn from a generator seeded by x, so hpod
and Optuna see exactly the same curve for the same configuration:
  * ~15% good: high final accuracy, learned fast;
  * ~65% bad: low final accuracy;
  * ~20% late bloomers: the best final accuracies, but slow starters that look bad early.
val_accuracy(epoch) = final * (1 - exp(-epoch / tau)) + small noise (also seeded).

As a program: `curves.py X EPOCHS` prints `hpod {"step": e, "val_accuracy": v}` per epoch,
sleeping a little per epoch as a stand-in for training.
"""

import json
import math
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


def main():
    x, epochs = float(sys.argv[1]), int(sys.argv[2])
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.01
    for step, value in enumerate(curve(x, epochs), start=1):
        print("hpod " + json.dumps({"step": step, "val_accuracy": round(value, 6)}), flush=True)
        time.sleep(pause)


if __name__ == "__main__":
    main()
