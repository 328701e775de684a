"""Peers for bench/strategies: Optuna (TPE, GPSampler) and scikit-optimize's GP.

Prints one JSON object per line, in the same shape as the Swift side (bench-strategies):
  quality <function> <sampler> <seed> <trials> [pending]  -> {"kind": "quality", ..., "best": v}
  speed <dimension> <observations> <repeats> [sampler]    -> {"kind": "speed", ..., "seconds": [...]}

The functions come from the shared suite (suite.py imports ../shared/bench/functions.py).

Quality with `pending` P > 0 (Optuna only) simulates parallel workers deterministically, the
same protocol as the Swift side: every suggestion after the first P is asked while the P
previous trials are still running (asked, not told); then the oldest of them is told.

Speed follows the Swift side's protocol: a history of random observations of the same smooth
function, one untimed suggestion (so the sampler's GP cache is warm), then `repeats` timed
suggestions, each told before the next.
"""

import json
import math
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

warnings.filterwarnings("ignore")


def smooth(x):
    return sum((v - 0.3) ** 2 + 0.1 * math.sin(7 * v + k) for k, v in enumerate(x))


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def optuna_params(trial, space):
    params = {}
    for name, kind, low, high, log in space:
        if kind == "float":
            params[name] = trial.suggest_float(name, low, high, log=log)
        elif kind == "int":
            params[name] = trial.suggest_int(name, low, high, log=log)
        else:
            params[name] = trial.suggest_categorical(name, low)
    return params


def run_optuna(sampler, space, fn, seed, trials, pending):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler == "optuna-tpe":
        s = optuna.samplers.TPESampler(seed=seed)
    else:
        s = optuna.samplers.GPSampler(seed=seed, n_startup_trials=10)
    study = optuna.create_study(sampler=s)
    best = math.inf
    running = []
    for _ in range(trials):
        if pending and len(running) >= pending:
            trial, value = running.pop(0)
            study.tell(trial, value)
        trial = study.ask()
        value = suite.evaluate(fn, space, optuna_params(trial, space))
        best = min(best, value)
        if pending:
            running.append((trial, value))
        else:
            study.tell(trial, value)
    for trial, value in running:
        study.tell(trial, value)
    return best


def run_skopt(space, fn, seed, trials):
    from skopt import gp_minimize
    from skopt.space import Categorical, Integer, Real

    dims = []
    for name, kind, low, high, log in space:
        prior = "log-uniform" if log else "uniform"
        if kind == "float":
            dims.append(Real(low, high, prior=prior, name=name))
        elif kind == "int":
            dims.append(Integer(low, high, prior=prior, name=name))
        else:
            dims.append(Categorical(low, name=name))
    names = [entry[0] for entry in space]

    def objective(x):
        return suite.evaluate(fn, space, dict(zip(names, x)))

    result = gp_minimize(objective, dims, n_calls=trials, n_initial_points=10, random_state=seed)
    return float(result.fun)


def quality(function, sampler, seed, trials, pending):
    space, fn, _ = suite.FUNCS[function]
    start = time.perf_counter()
    if sampler.startswith("optuna"):
        best = run_optuna(sampler, space, fn, seed, trials, pending)
    elif sampler == "skopt-gp":
        best = run_skopt(space, fn, seed, trials)
    else:
        raise SystemExit(f"unknown sampler {sampler}")
    row = {"kind": "quality", "function": function, "sampler": sampler, "seed": seed, "best": best,
           "seconds": time.perf_counter() - start, "trials": trials}
    if pending:
        row["pending"] = pending
    emit(row)


def speed(dimension, observations, repeats, sampler="optuna-gp"):
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(42)
    dists = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(dimension)}
    if sampler == "optuna-tpe":
        s = optuna.samplers.TPESampler(seed=0)
    else:
        s = optuna.samplers.GPSampler(seed=0, n_startup_trials=10)
    study = optuna.create_study(sampler=s)
    trials = []
    for _ in range(observations):
        params = {k: float(rng.random()) for k in dists}
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=smooth(list(params.values()))))
    study.add_trials(trials)
    seconds = []
    for round_ in range(repeats + 1):
        start = time.perf_counter()
        trial = study.ask(dists)
        if round_ > 0:
            seconds.append(time.perf_counter() - start)
        study.tell(trial, smooth([trial.params[k] for k in dists]))
    emit({"kind": "speed", "sampler": sampler, "dimension": dimension, "observations": observations,
          "seconds": seconds})


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "quality":
        quality(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                int(sys.argv[6]) if len(sys.argv) > 6 else 0)
    elif mode == "speed":
        speed(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), *(sys.argv[5:6]))
    else:
        raise SystemExit(f"unknown mode {mode}")
