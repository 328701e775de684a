"""Prints the bench/strategies tables from the JSON lines the runs wrote (one file or several).

Quality: per function, the best value after the run's trials for every sampler (median, 25th
and 75th percentile over seeds; lower is better, so the 75th percentile is the bad tail), and
the normalized regret (best - optimum) / (hpod random's median best - optimum). The optimum is
the suite's known minimum, or for a function without one (boosted_trees) the best value any
sampler found in these runs. Target: hpod bayes's median and 75th-percentile normalized regret
each at most 0.01 above the best peer's.

Parallel: the same with P pending trials at every suggestion; target: hpod parallel's median
normalized regret within 0.05 of hpod sequential's.

Every sampler of a function is compared on the seeds that all of them ran.

Speed: seconds per suggestion (median of the timed suggestions).
"""

import json
import os
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402

PEERS = ["optuna-tpe", "optuna-gp", "skopt-gp"]
SAMPLERS = ["hpod-bayes", "hpod-random"] + PEERS


def quartiles(values):
    values = sorted(values)
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[1], q[2]


def load(paths):
    rows = []
    for path in paths:
        with open(path) as handle:
            rows += [json.loads(line) for line in handle if line.startswith("{")]
    return rows


def main(paths):
    rows = load(paths)
    quality = defaultdict(dict)  # (function, sampler, pending) -> {seed: best}
    speed = defaultdict(list)
    improved = defaultdict(list)  # whether each timed suggestion beat the best before it
    for row in rows:
        if row["kind"] == "quality":
            quality[(row["function"], row["sampler"], row.get("pending", 0))][row["seed"]] = row["best"]
        else:
            speed[(row["dimension"], row["observations"], row["sampler"])] += row["seconds"]
            improved[(row["dimension"], row["observations"], row["sampler"])] += row.get("improved", [])

    functions = [f for f in suite.NAMES if any(k[0] == f for k in quality)]
    # Every sampler of a function is compared on the seeds they all ran (a partial run of the
    # peers, or --peers-from a run with fewer seeds, would otherwise compare unlike sets).
    for f in functions:
        keys = [k for k in quality if k[0] == f]
        common = set.intersection(*(set(quality[k]) for k in keys))
        for k in keys:
            quality[k] = {seed: v for seed, v in quality[k].items() if seed in common}
    optimum = {}
    for f in functions:
        known = suite.FUNCS[f][2]
        seen = min(v for k, byseed in quality.items() if k[0] == f for v in byseed.values())
        optimum[f] = known if known is not None else seen
        # A known optimum rounded to 6 digits may be above a value found: regret stays >= 0.
        optimum[f] = min(optimum[f], seen)

    def normalized(f, values):
        random = quality.get((f, "hpod-random", 0))
        if not random:
            return None
        scale = statistics.median(random.values()) - optimum[f]
        q1, med, q3 = quartiles(values)
        return (med - optimum[f]) / scale, (q3 - optimum[f]) / scale

    met = missed = 0
    if functions:
        print("\nQuality: best value after the trials, median [Q1, Q3] over seeds; "
              "nreg = (best - optimum) / (random's median best - optimum), at the median and at Q3")
        print(f"{'function':<16} {'sampler':<12} {'seeds':>5} {'median':>12} {'Q1':>12} {'Q3':>12} "
              f"{'nreg med':>9} {'nreg Q3':>9}")
    verdicts = []
    for f in functions:
        regrets = {}
        for sampler in SAMPLERS:
            byseed = quality.get((f, sampler, 0))
            if not byseed:
                continue
            values = list(byseed.values())
            q1, med, q3 = quartiles(values)
            nr = normalized(f, values)
            regrets[sampler] = nr
            nrs = f"{nr[0]:>9.4f} {nr[1]:>9.4f}" if nr else ""
            print(f"{f:<16} {sampler:<12} {len(values):>5} {med:>12.6g} {q1:>12.6g} {q3:>12.6g} {nrs}")
        peers = {k: v for k, v in regrets.items() if k in PEERS and v}
        if regrets.get("hpod-bayes") and peers:
            h = regrets["hpod-bayes"]
            best_med = min(peers, key=lambda k: peers[k][0])
            best_q3 = min(peers, key=lambda k: peers[k][1])
            ok = h[0] <= peers[best_med][0] + 0.01 and h[1] <= peers[best_q3][1] + 0.01
            met += ok
            missed += not ok
            verdicts.append((f, h, best_med, peers[best_med][0], best_q3, peers[best_q3][1], ok))
    if verdicts:
        print("\nQuality target: hpod bayes's normalized regret at most 0.01 above the best peer's, "
              "at the median and at Q3")
        print(f"{'function':<16} {'hpod med':>9} {'best peer (median)':>24} {'hpod Q3':>9} "
              f"{'best peer (Q3)':>24}  verdict")
        for f, h, pm, vm, pq, vq, ok in verdicts:
            print(f"{f:<16} {h[0]:>9.4f} {pm:>14} {vm:>9.4f} {h[1]:>9.4f} {pq:>14} {vq:>9.4f}  "
                  f"{'MET' if ok else 'NOT MET'}")
        print(f"  -> met on {met} of {met + missed} functions")

    parallel = sorted({k[2] for k in quality if k[2] > 0})
    for p in parallel:
        print(f"\nParallel: {p} pending trials at every suggestion (normalized regret, median / Q3)")
        print(f"{'function':<16} {'hpod seq':>17} {'hpod P=' + str(p):>17} {'optuna-gp seq':>17} "
              f"{'optuna-gp P=' + str(p):>17}  target (hpod P within 0.05 of hpod seq, median)")
        ok_count = total = 0
        for f in functions:
            cells = []
            values = {}
            for sampler, pending in [("hpod-bayes", 0), ("hpod-bayes", p), ("optuna-gp", 0), ("optuna-gp", p)]:
                byseed = quality.get((f, sampler, pending))
                nr = normalized(f, list(byseed.values())) if byseed else None
                values[(sampler, pending)] = nr
                cells.append(f"{nr[0]:>8.4f}/{nr[1]:<8.4f}" if nr else f"{'':>17}")
            seq, par = values[("hpod-bayes", 0)], values[("hpod-bayes", p)]
            verdict = ""
            if seq and par:
                ok = par[0] <= seq[0] + 0.05
                ok_count += ok
                total += 1
                verdict = "MET" if ok else "NOT MET"
            print(f"{f:<16} {' '.join(cells)}  {verdict}")
        print(f"  -> met on {ok_count} of {total} functions")

    if speed:
        print("\nSpeed: seconds per suggestion (mean of the timed suggestions after one warm-up; hpod's")
        print("span two hyperparameter refits from 275 observations on), and how many of hpod's beat")
        print("the best value before them (in brackets: how many random search would, in expectation)")
        print(f"{'dim':>4} {'observations':>12} {'hpod-bayes':>11} {'optuna-gp':>10} {'ratio':>8} "
              f"{'optuna-tpe':>11} {'hpod, ref BLAS':>15} {'hpod improved':>20}")
        keys = sorted({(d, n) for d, n, _ in speed})
        for d, n in keys:
            def mean(sampler):
                values = speed.get((d, n, sampler))
                return statistics.mean(values) if values else None
            h, o, t, r = mean("hpod-bayes"), mean("optuna-gp"), mean("optuna-tpe"), mean("hpod-bayes-refblas")
            ratio = f"{o / h:>7.1f}x" if h and o else f"{'':>8}"
            fmt = lambda v, w: f"{v:>{w}.4f}" if v is not None else f"{'':>{w}}"  # noqa: E731
            notes = []
            if n in (300, 1000):
                notes.append("target >= 20x")
            if n == 1000:
                notes.append("<= 0.1 s")
            if n >= 3000:
                notes.append("target < 1 s")
            better = improved.get((d, n, "hpod-bayes"), [])
            # A random suggestion beats the best of k i.i.d. values before it with probability
            # 1/(k+1): random search's expected count over the same suggestions, for scale.
            chance = sum(1 / (n + k + 1) for k in range(len(better)))
            count = f"{sum(better)} of {len(better)} ({chance:.2g})" if better else ""
            print(f"{d:>4} {n:>12} {fmt(h, 11)} {fmt(o, 10)} {ratio} {fmt(t, 11)} {fmt(r, 15)} {count:>20}  "
                  f"{', '.join(notes)}")


if __name__ == "__main__":
    main(sys.argv[1:])
