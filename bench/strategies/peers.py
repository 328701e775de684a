"""Peers for bench/strategies: Optuna (TPE, GPSampler) and scikit-optimize's GP.

Prints one JSON object per line, in the same shape as the Swift side (bench-strategies):
  quality <function> <sampler> <seed> <trials>  -> {"kind": "quality", ..., "best": v}
  speed <dimension> <observations> <repeats>    -> {"kind": "speed", ..., "seconds": [...]}
Speed follows the Swift side's protocol: a history of random observations of the same smooth
function, one untimed suggestion (so the sampler's GP cache is warm), then `repeats` timed
suggestions, each told before the next.
"""

import json
import math
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def branin(x):
    x1, x2 = x
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))
        total -= ALPHA[i] * math.exp(-inner)
    return total


def smooth(x):
    return sum((v - 0.3) ** 2 + 0.1 * math.sin(7 * v + k) for k, v in enumerate(x))


FUNCTIONS = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)]),
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6),
}


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def quality(function, sampler, seed, trials):
    f, bounds = FUNCTIONS[function]
    start = time.perf_counter()
    if sampler.startswith("optuna"):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if sampler == "optuna-tpe":
            s = optuna.samplers.TPESampler(seed=seed)
        else:
            s = optuna.samplers.GPSampler(seed=seed, n_startup_trials=10)
        study = optuna.create_study(sampler=s)
        names = [f"x{i}" for i in range(len(bounds))]

        def objective(trial):
            return f([trial.suggest_float(n, lo, hi) for n, (lo, hi) in zip(names, bounds)])

        study.optimize(objective, n_trials=trials)
        best = study.best_value
    elif sampler == "skopt-gp":
        from skopt import gp_minimize

        result = gp_minimize(
            lambda x: f(x), bounds, n_calls=trials, n_initial_points=10, random_state=seed
        )
        best = float(result.fun)
    else:
        raise SystemExit(f"unknown sampler {sampler}")
    emit({"kind": "quality", "function": function, "sampler": sampler, "seed": seed, "best": best,
          "seconds": time.perf_counter() - start})


def speed(dimension, observations, repeats):
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(42)
    dists = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(dimension)}
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=0, n_startup_trials=10))
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
    emit({"kind": "speed", "sampler": "optuna-gp", "dimension": dimension, "observations": observations,
          "seconds": seconds})


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "quality":
        quality(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "speed":
        speed(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode}")
