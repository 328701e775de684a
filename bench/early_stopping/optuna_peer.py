#!/usr/bin/env python3
"""Optuna's pruners on the same curves: the configurations hpod tried, enqueued in the same order.

Reads a JSON list of x values on stdin; for each pruner, runs one study (sequential, in process)
whose objective plays the curve of x, reporting every epoch and asking should_prune().
Prints one JSON line per pruner: epochs spent, best final value of a fully trained trial.
"""

import json
import logging
import sys

import optuna

from curves import curve

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 27


def run(pruner, xs):
    study = optuna.create_study(direction="maximize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))
    for x in xs:
        study.enqueue_trial({"x": x})
    spent = 0
    finals = []

    def objective(trial):
        nonlocal spent
        x = trial.suggest_float("x", 0.0, 1.0)
        values = curve(x, EPOCHS)
        for step, value in enumerate(values, start=1):
            spent += 1
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        finals.append(values[-1])
        return values[-1]

    study.optimize(objective, n_trials=len(xs))
    pruned = sum(1 for t in study.trials if t.state == optuna.trial.TrialState.PRUNED)
    return {"epochs": spent, "best": max(finals) if finals else None, "pruned": pruned, "trials": len(xs)}


def main():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    xs = json.load(sys.stdin)
    pruners = {
        "optuna MedianPruner": optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3),
        "optuna SuccessiveHalving": optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        "optuna SuccessiveHalving min_resource 3": optuna.pruners.SuccessiveHalvingPruner(
            min_resource=3, reduction_factor=3),
        "optuna Hyperband": optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS, reduction_factor=3),
    }
    for name, pruner in pruners.items():
        print(json.dumps({"rule": name, "version": optuna.__version__, **run(pruner, xs)}), flush=True)


if __name__ == "__main__":
    main()
