"""Peers for bench/multi_objective: Optuna's NSGA-II, TPE (multi-objective) and GPSampler
(log expected hypervolume improvement), each with its constraints handling where the problem
has a constraint (`constraints_func`, violation <= 0 feasible).

  python3 peers.py <problem> <sampler> <seed> <trials>
      -> {"kind": "mo", "problem", "sampler", "seed", "points": [[f...]], "violations": [...]}

Samplers: optuna-nsga2 (population 20: 5 generations in 100 trials, kinder than the default
50's two), optuna-tpe, optuna-gp (10 startup trials, as hpod's bayes).
"""

import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402

warnings.filterwarnings("ignore")


def main():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name, sampler_name, seed, trials = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    variables, objectives, evaluate = problems.PROBLEMS[name]
    constrained = name.startswith("c")
    constraints = (lambda trial: [trial.user_attrs["violation"]]) if constrained else None
    if sampler_name == "optuna-nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=20, constraints_func=constraints)
    elif sampler_name == "optuna-tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=constraints)
    else:
        sampler = optuna.samplers.GPSampler(seed=seed, n_startup_trials=10, constraints_func=constraints)
    study = optuna.create_study(directions=["minimize"] * objectives, sampler=sampler)
    points, violations = [], []

    def objective(trial):
        x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(variables)]
        f, violation = evaluate(x)
        trial.set_user_attr("violation", violation)
        points.append(f)
        violations.append(violation)
        return tuple(f)

    start = time.time()
    study.optimize(objective, n_trials=trials)
    print(json.dumps({"kind": "mo", "problem": name, "sampler": sampler_name, "seed": seed, "trials": trials,
                      "points": points, "violations": violations, "seconds": time.time() - start},
                     sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
