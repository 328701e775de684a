#!/usr/bin/env python3
"""Ray Tune's PopulationBasedTraining, and random search without it, on the PBT problems.

    ray_pbt.py --problems toy,digits --seeds 0,1,2,3,4 [--population 8] [--parallelism 4]

The trainable is a function trainable that imports the step functions of problems.py (the same
as hpod's trial.py runs), reports `score` and `step` every step and saves a ray.tune
Checkpoint (the pickled state) every `perturbation_interval` steps and at the end; started
from a checkpoint (PBT's exploit, or Ray resuming a paused member) it loads that state and
trains on with its config. Per problem and seed:
  * random: the population's 8 initial configurations, each trained for all steps, no exploit;
  * pbt: PopulationBasedTraining from the same 8 initial configurations, perturbation
    interval 4 steps, quantile fraction 0.25, resample probability 0.25, factors 0.8 / 1.2.
The initial configurations are drawn by problems.sample from random.Random(seed); Ray's PBT
draws its exploit and explore choices from Python's `random`, seeded with the seed too.
Ray runs locally on `parallelism` CPUs (one per trial), no dashboard.
Appends one JSON line per run to --out: best final score over the population, steps trained (every
step a trial played, replays after a resume included), resumes from a checkpoint (exploits,
and paused members going on), wall seconds.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402

INTERVAL = 4
QUANTILE = 0.25
RESAMPLE = 0.25
FACTORS = (0.8, 1.2)


def make_trainable(problem, steps, played_log):
    from ray import tune

    init, step, score = problems.PROBLEMS[problem]

    def trainable(config):
        checkpoint = tune.get_checkpoint()
        if checkpoint:
            with checkpoint.as_directory() as folder:
                state = problems.load(os.path.join(folder, "state.pkl"))
            with open(played_log, "a") as f:
                f.write(f"# resumed at {state['step']}\n")
        else:
            state = init(int(config.get("seed", 0)))
        while state["step"] < steps:
            state = step(state, config)
            t = state["step"]
            with open(played_log, "a") as f:
                f.write(f"{t}\n")
            metrics = {"score": score(state), "step": t}
            if t % INTERVAL == 0 or t == steps:
                with tempfile.TemporaryDirectory() as folder:
                    problems.save(state, os.path.join(folder, "state.pkl"))
                    tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
            else:
                tune.report(metrics)

    return trainable


def domain(problem, name):
    from ray import tune
    low, high, log = problems.SPACES[problem][name]
    return tune.loguniform(low, high) if log else tune.uniform(low, high)


def run(problem, method, seed, population, parallelism, work):
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining
    from ray.tune.search.basic_variant import BasicVariantGenerator

    steps = problems.STEPS[problem]
    rng = random.Random(seed)
    initial = [dict(problems.sample(problem, rng), seed=seed * 1000 + i) for i in range(population)]
    random.seed(seed)
    name = f"{problem}-{method}-{seed}"
    played_log = os.path.join(work, f"{name}.played")
    open(played_log, "w").close()
    space = {key: domain(problem, key) for key in problems.SPACES[problem]}
    scheduler = None
    if method == "pbt":
        scheduler = PopulationBasedTraining(
            time_attr="step", perturbation_interval=INTERVAL, hyperparam_mutations=space,
            quantile_fraction=QUANTILE, resample_probability=RESAMPLE, perturbation_factors=FACTORS)
    started = time.monotonic()
    tuner = tune.Tuner(
        tune.with_resources(make_trainable(problem, steps, played_log), {"cpu": 1}),
        param_space=dict(space, seed=tune.choice([c["seed"] for c in initial])),
        tune_config=tune.TuneConfig(
            metric="score", mode="max", scheduler=scheduler, num_samples=population,
            search_alg=BasicVariantGenerator(points_to_evaluate=initial, random_state=seed),
            max_concurrent_trials=None),
        run_config=tune.RunConfig(name=name, storage_path=os.path.join(work, "results"), verbose=0,
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=None)),
    )
    results = tuner.fit()
    wall = time.monotonic() - started
    finals = []
    for result in results:
        if result.error:
            raise RuntimeError(f"{name}: trial failed: {result.error}")
        if result.metrics.get("step") == steps:
            finals.append(result.metrics["score"])
    with open(played_log) as f:
        lines = [line for line in f if line.strip()]
    played = sum(1 for line in lines if not line.startswith("#"))
    return {"problem": problem, "method": f"ray {method}", "seed": seed, "best": max(finals) if finals else None,
            "finished": len(finals), "steps": played,
            "resumes": len(lines) - played, "wall": round(wall, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default="toy,digits")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--methods", default="random,pbt")
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--out", required=True, help="file the JSON rows are appended to (Ray prints on stdout)")
    args = parser.parse_args()

    import ray
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    ray.init(num_cpus=args.parallelism, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    with tempfile.TemporaryDirectory(prefix="hpod-bench-pbt-ray-") as work:
        for problem in args.problems.split(","):
            for method in args.methods.split(","):
                for seed in (int(s) for s in args.seeds.split(",")):
                    row = run(problem, method, seed, args.population, args.parallelism, work)
                    with open(args.out, "a") as f:
                        f.write(json.dumps({**row, "version": ray.__version__}) + "\n")
    ray.shutdown()


if __name__ == "__main__":
    main()
