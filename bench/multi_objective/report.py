"""Prints bench/multi_objective's table from the JSON lines of one or more runs.

Hypervolume of each study's feasible points to the reference 1.1 in every objective, by
Optuna's own hypervolume routine (the same for every sampler); hpod's rows also carry the
value hpod's MultiObjective.Hypervolume computed, which must agree. Median and quartiles over
seeds, the share of the true front's hypervolume, and the target: hpod bayes's median at least
the best peer's on every problem. Samplers of one problem are compared on the seeds they all ran.

  python3 report.py FILE.jsonl [...]
"""

import json
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402


def hypervolume(points, violations, reference):
    from optuna._hypervolume import compute_hypervolume

    feasible = np.array([p for p, v in zip(points, violations) if v <= 0 and all(a < r for a, r in zip(p, reference))])
    if len(feasible) == 0:
        return 0.0
    return float(compute_hypervolume(feasible, np.array(reference)))


def quartiles(values):
    q = np.percentile(values, [25, 50, 75])
    return q[0], q[1], q[2]


def main(paths):
    rows = []
    for path in paths:
        with open(path) as handle:
            rows += [json.loads(line) for line in handle if line.strip().startswith("{")]
    by_problem = {}
    disagreements = 0
    for row in rows:
        reference = [problems.REFERENCE] * len(row["points"][0])
        row["hv"] = hypervolume(row["points"], row["violations"], reference)
        if "hypervolume" in row and abs(row["hypervolume"] - row["hv"]) > 1e-9 * max(1.0, row["hv"]):
            disagreements += 1
            print(f"hypervolumes disagree: {row['problem']} {row['sampler']} seed {row['seed']}: "
                  f"hpod {row['hypervolume']} optuna {row['hv']}", file=sys.stderr)
        by_problem.setdefault(row["problem"], {}).setdefault(row["sampler"], {})[row["seed"]] = row
    print("Hypervolume of the feasible trials after the budget (reference 1.1 per objective), "
          "median [Q1, Q3] over seeds; share = median / the true front's")
    print(f"{'problem':10} {'sampler':14} {'seeds':>5} {'median':>9} {'Q1':>9} {'Q3':>9} {'share':>7} {'s/study':>8}")
    verdicts = []
    parallel = []
    for problem in sorted(by_problem):
        samplers = by_problem[problem]
        common = set.intersection(*(set(seeds) for seeds in samplers.values()))
        best = problems.best_hypervolume(problem)
        medians = {}
        for sampler in sorted(samplers):
            values = [samplers[sampler][seed]["hv"] for seed in sorted(common)]
            seconds = statistics.median(samplers[sampler][seed].get("seconds", 0) for seed in common)
            q1, median, q3 = quartiles(values)
            medians[sampler] = median
            print(f"{problem:10} {sampler:14} {len(common):5d} {median:9.4f} {q1:9.4f} {q3:9.4f} "
                  f"{median / best:7.3f} {seconds:8.1f}")
        peers = {s: m for s, m in medians.items() if not s.startswith("hpod")}
        if "hpod-bayes" in medians and peers:
            peer = max(peers, key=peers.get)
            met = medians["hpod-bayes"] >= peers[peer]
            verdicts.append((problem, medians["hpod-bayes"], peer, peers[peer], met))
        for sampler in sorted(medians):
            if sampler.startswith("hpod-bayes-p") and "hpod-bayes" in medians:
                parallel.append((problem, sampler, medians[sampler], medians["hpod-bayes"]))
    print()
    print("Target: hpod bayes's median hypervolume at least the best peer's")
    for problem, hpod, peer, value, met in verdicts:
        ratio = hpod / value if value > 0 else float("inf")
        print(f"{problem:10} hpod-bayes {hpod:.4f}  best peer {peer} {value:.4f}  ratio {ratio:.3f}x  "
              f"{'MET' if met else 'NOT MET'}")
    print(f"  -> met on {sum(v[4] for v in verdicts)} of {len(verdicts)} problems")
    if parallel:
        print()
        print("Parallel: hpod bayes with trials in flight (each suggestion sees the others pending) against sequential")
        for problem, sampler, value, sequential in parallel:
            ratio = value / sequential if sequential > 0 else float("inf")
            print(f"{problem:10} {sampler} {value:.4f}  sequential {sequential:.4f}  ratio {ratio:.3f}x")
    print(f"hpod's own hypervolume agrees with Optuna's on every hpod row: {'yes' if disagreements == 0 else 'NO'}")


if __name__ == "__main__":
    main(sys.argv[1:])
