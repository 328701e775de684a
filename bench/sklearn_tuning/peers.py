"""Peers for bench/sklearn_tuning: Optuna (TPE, GPSampler), scikit-optimize's GP and HEBO.

  python3 peers.py study <problem> <optimizer> <seed> <rounds> <batch>
      -> {"kind": "study", "problem", "optimizer", "seed", "batch", "losses": [...], "best", ...}

The same protocol as the Swift side (bench-sklearn): `rounds` rounds of `batch` trials; each
round's configurations are all asked before any is evaluated, through each library's own way
of asking for several at once, with its default settings (what a user gets):
  optuna-tpe   TPESampler(seed); `batch` study.ask() calls, then the study.tell()s
  optuna-gp    GPSampler(seed, n_startup_trials=10); the same
  skopt-gp     Optimizer(GP, n_initial_points=10, random_state=seed).ask(n_points=batch)
               (its constant liar, "cl_min"), then tell(xs, ys)
  hebo         HEBO(space, scramble_seed=seed).suggest(n_suggestions=batch), then observe
Libraries without conditional parameters (scikit-optimize, HEBO) get every parameter; the
inactive ones are dropped before the configuration is evaluated (and before the cache key).

Evaluation is problems.py's, with its on-disk cache. When this runs in another interpreter
than the one with scikit-learn (HEBO has its own venv), set HPOD_BENCH_PYTHON to that one: the
configurations are then evaluated by a `problems.py serve` subprocess.
"""

import json
import math
import os
import subprocess
import sys
import time
import warnings

import numpy as np

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
import problems  # noqa: E402

warnings.filterwarnings("ignore")


class Evaluator:
    def __init__(self, problem):
        self.problem = problem
        python = os.environ.get("HPOD_BENCH_PYTHON")
        self.process = None
        if python and os.path.realpath(python) != os.path.realpath(sys.executable):
            self.process = subprocess.Popen([python, os.path.join(_here, "problems.py"), "serve", problem],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.process.stdout.readline()  # the space
        else:
            self.cache = problems.Cache()

    best = (math.inf, None)

    def __call__(self, config):
        if self.process is None:
            loss = self.cache.evaluate(self.problem, config)
        else:
            self.process.stdin.write(json.dumps(config) + "\n")
            self.process.stdin.flush()
            loss = float(self.process.stdout.readline())
        if loss < self.best[0]:
            self.best = (loss, problems.canonical(self.problem, config))
        return loss


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


# ---- Optuna ---------------------------------------------------------------------------------


def optuna_params(trial, space):
    config = {}
    for p in space:
        if not problems.active(p, config):
            continue
        if p["kind"] == "cat":
            config[p["name"]] = trial.suggest_categorical(p["name"], p["choices"])
        elif p["kind"] == "int":
            config[p["name"]] = trial.suggest_int(p["name"], p["low"], p["high"], log=p["log"])
        else:
            config[p["name"]] = trial.suggest_float(p["name"], p["low"], p["high"], log=p["log"])
    return config


def run_optuna(name, space, evaluate, seed, rounds, batch):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if name == "optuna-tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif name == "optuna-random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        sampler = optuna.samplers.GPSampler(seed=seed, n_startup_trials=10)
    study = optuna.create_study(sampler=sampler)
    losses, suggest = [], 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        asked = []
        for _ in range(batch):
            trial = study.ask()
            asked.append((trial, optuna_params(trial, space)))
        suggest += time.perf_counter() - start
        for trial, config in asked:
            loss = evaluate(config)
            losses.append(loss)
            study.tell(trial, loss)
    return losses, suggest


# ---- scikit-optimize ------------------------------------------------------------------------


def run_skopt(space, evaluate, seed, rounds, batch):
    from skopt import Optimizer
    from skopt.space import Categorical, Integer, Real

    dims = []
    for p in space:
        prior = "log-uniform" if p["log"] else "uniform"
        if p["kind"] == "cat":
            dims.append(Categorical(p["choices"], name=p["name"]))
        elif p["kind"] == "int":
            dims.append(Integer(p["low"], p["high"], prior=prior, name=p["name"]))
        else:
            dims.append(Real(p["low"], p["high"], prior=prior, name=p["name"]))
    names = [p["name"] for p in space]
    optimizer = Optimizer(dims, base_estimator="GP", n_initial_points=10, random_state=seed)
    losses, suggest = [], 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        xs = optimizer.ask(n_points=batch) if batch > 1 else [optimizer.ask()]
        suggest += time.perf_counter() - start
        ys = []
        for x in xs:
            config = {n: (v.item() if hasattr(v, "item") else v) for n, v in zip(names, x)}
            ys.append(evaluate(config))
        losses += ys
        start = time.perf_counter()
        optimizer.tell(xs, ys)
        suggest += time.perf_counter() - start
    return losses, suggest


# ---- HEBO -------------------------------------------------------------------------------------


def run_hebo(space, evaluate, seed, rounds, batch):
    import random

    import torch
    from pymoo.config import Config

    Config.warnings["not_compiled"] = False  # its notice would go to stdout
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)
    entries = []
    for p in space:
        if p["kind"] == "cat":
            entries.append({"name": p["name"], "type": "cat", "categories": p["choices"]})
        elif p["kind"] == "int":
            entries.append({"name": p["name"], "type": "pow_int" if p["log"] else "int", "lb": p["low"],
                            "ub": p["high"]})
        else:
            entries.append({"name": p["name"], "type": "pow" if p["log"] else "num", "lb": p["low"], "ub": p["high"]})
    optimizer = HEBO(DesignSpace().parse(entries), scramble_seed=seed)
    losses, suggest = [], 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        suggestions = optimizer.suggest(n_suggestions=batch)
        suggest += time.perf_counter() - start
        ys = []
        for _, row in suggestions.iterrows():
            config = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            ys.append(evaluate(config))
        losses += ys
        start = time.perf_counter()
        optimizer.observe(suggestions, np.array(ys).reshape(-1, 1))
        suggest += time.perf_counter() - start
    return losses, suggest


def study(problem, optimizer, seed, rounds, batch):
    space = problems.PROBLEMS[problem]["space"]
    evaluate = Evaluator(problem)
    start = time.perf_counter()
    if optimizer.startswith("optuna"):
        losses, suggest = run_optuna(optimizer, space, evaluate, seed, rounds, batch)
    elif optimizer == "skopt-gp":
        losses, suggest = run_skopt(space, evaluate, seed, rounds, batch)
    elif optimizer == "hebo":
        losses, suggest = run_hebo(space, evaluate, seed, rounds, batch)
    else:
        raise SystemExit(f"unknown optimizer {optimizer}")
    emit({"kind": "study", "problem": problem, "optimizer": optimizer, "seed": seed, "batch": batch,
          "rounds": rounds, "losses": losses, "best": min(losses), "seconds": time.perf_counter() - start,
          "suggest_seconds": suggest, "best_config": evaluate.best[1]})


if __name__ == "__main__":
    if sys.argv[1] != "study" or len(sys.argv) != 7:
        raise SystemExit("usage: peers.py study <problem> <optimizer> <seed> <rounds> <batch>")
    study(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
