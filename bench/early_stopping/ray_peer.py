#!/usr/bin/env python3
"""Ray Tune's schedulers on the same curves: the configurations hpod tried, in the same order.

Reads a JSON list of x values on stdin and EPOCHS as argv[1]; for each scheduler runs one
Ray Tune experiment over those configurations (a grid over the list: Ray creates the trials
in its order), each trial playing the curve of x (curves.py) one epoch per report. 4 trials
run at a time because Ray has 4 CPUs and each trial takes one: a paused trial frees its CPU.
(Ray's `max_concurrent_trials=4` instead makes HyperBandScheduler put every trial in its
first bracket, the one without rungs, as trials are then created one at a time as others
end: it stops nothing; that variant runs when $BENCH_RAY_SCHEDULERS names it.) Every epoch saves a checkpoint through ray.tune's Checkpoint API, and a trial that Ray
resumes (HyperBandScheduler pauses trials at its rungs) restores the epoch from it and goes
on after it. Prints one line `ROW {json}` per scheduler: epochs played (replays after a resume
included, counted by the trials themselves), trials stopped early, best final value of a
trial that ran all epochs, wall seconds.

Runs Ray locally with 4 CPUs and no dashboard; Ray's own output goes to stderr.
"""

import json
import os
import sys
import tempfile
import time

from curves import curve

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 27
PAUSE = 0.01  # seconds per epoch, as curves.py sleeps under hpod


def make_trainable(played_log):
    """A function trainable playing the curve of config["x"], checkpointing every epoch."""
    from ray import tune

    def trainable(config):
        x = config["x"]
        values = curve(x, EPOCHS)
        start = 0
        checkpoint = tune.get_checkpoint()
        if checkpoint:
            with checkpoint.as_directory() as folder:
                with open(os.path.join(folder, "state.json")) as f:
                    state = json.load(f)
            assert state["x"] == x, f"checkpoint of x={state['x']} given to x={x}"
            start = state["epoch"]
            with open(played_log, "a") as f:
                f.write(f"# resumed {x!r} {start}\n")
        for epoch in range(start + 1, EPOCHS + 1):
            time.sleep(PAUSE)
            with open(played_log, "a") as f:
                f.write(f"{x!r} {epoch}\n")
            with tempfile.TemporaryDirectory() as folder:
                with open(os.path.join(folder, "state.json"), "w") as f:
                    json.dump({"x": x, "epoch": epoch}, f)
                tune.report({"val_accuracy": values[epoch - 1], "epoch": epoch},
                            checkpoint=tune.Checkpoint.from_directory(folder))

    return trainable


def run(name, scheduler, xs, work, concurrency=None):
    from ray import tune

    played_log = os.path.join(work, f"{name.split()[0]}-{len(os.listdir(work))}.played")
    open(played_log, "w").close()
    started = time.monotonic()
    tuner = tune.Tuner(
        tune.with_resources(make_trainable(played_log), {"cpu": 1}),
        param_space={"x": tune.grid_search(xs)},
        tune_config=tune.TuneConfig(metric="val_accuracy", mode="max", scheduler=scheduler,
                                    max_concurrent_trials=concurrency),
        run_config=tune.RunConfig(name=os.path.basename(played_log)[:-len(".played")], storage_path=os.path.join(work, "results"), verbose=0,
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
    )
    results = tuner.fit()
    wall = time.monotonic() - started
    with open(played_log) as f:
        lines = [line for line in f if line.strip()]
    played = sum(1 for line in lines if not line.startswith("#"))
    resumes = len(lines) - played
    finals, stopped = [], 0
    for result in results:
        if result.error:
            raise RuntimeError(f"{name}: trial failed: {result.error}")
        if result.metrics.get("epoch") == EPOCHS:
            finals.append(result.metrics["val_accuracy"])
        else:
            stopped += 1
    return {"rule": f"ray {name}", "epochs": played, "best": max(finals) if finals else None, "pruned": stopped,
            "trials": len(results), "resumes": resumes, "wall": round(wall, 1)}


def main():
    import ray
    from ray.tune.schedulers import ASHAScheduler, HyperBandScheduler

    xs = json.load(sys.stdin)
    concurrency = int(os.environ.get("BENCH_PARALLELISM", "4"))
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    ray.init(num_cpus=concurrency, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    schedulers = {
        "ASHAScheduler": (lambda: ASHAScheduler(time_attr="epoch", grace_period=1, max_t=EPOCHS,
                                                reduction_factor=3), None),
        "HyperBandScheduler": (lambda: HyperBandScheduler(time_attr="epoch", max_t=EPOCHS, reduction_factor=3),
                               None),
        "HyperBandScheduler max_concurrent_trials=4": (
            lambda: HyperBandScheduler(time_attr="epoch", max_t=EPOCHS, reduction_factor=3), concurrency),
    }
    # The third takes ~10 minutes (trials start one at a time): only when asked for by name.
    only = os.environ.get("BENCH_RAY_SCHEDULERS", "ASHAScheduler,HyperBandScheduler")
    with tempfile.TemporaryDirectory(prefix="hpod-bench-ray-") as work:
        for name, (make, limit) in schedulers.items():
            if name not in only.split(","):
                continue
            row = run(name, make(), xs, work, limit)
            # Ray writes its own lines to stdout too: the rows are marked.
            print("ROW " + json.dumps({**row, "version": ray.__version__}), flush=True)
    ray.shutdown()


if __name__ == "__main__":
    main()
