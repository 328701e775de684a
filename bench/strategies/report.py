"""Prints the combined bench/strategies table from the JSON lines the runs wrote."""

import json
import statistics
import sys
from collections import defaultdict

OPTIMA = {"branin": 0.397887357729739, "hartmann6": -3.322368011391339}
SAMPLERS = ["hpod-bayes", "hpod-random", "optuna-tpe", "optuna-gp", "skopt-gp"]


def quartiles(values):
    values = sorted(values)
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[1], q[2]


def main(path):
    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    quality = defaultdict(list)
    qseconds = defaultdict(list)
    speed = defaultdict(list)
    for row in rows:
        if row["kind"] == "quality":
            quality[(row["function"], row["sampler"])].append(row["best"])
            qseconds[(row["function"], row["sampler"])].append(row["seconds"])
        else:
            speed[(row["dimension"], row["observations"], row["sampler"])] += row["seconds"]

    print("\nQuality: best value after 60 trials (regret = best - optimum), median [Q1, Q3] over seeds")
    print(f"{'function':<10} {'sampler':<12} {'seeds':>5} {'median best':>14} {'Q1':>12} {'Q3':>12} "
          f"{'median regret':>14} {'s/run':>7}")
    for function in ["branin", "hartmann6"]:
        regrets = {}
        for sampler in SAMPLERS:
            values = quality.get((function, sampler))
            if not values:
                continue
            # Lower is better: Q1 is the better quartile.
            q1, med, q3 = quartiles(values)
            regrets[sampler] = med - OPTIMA[function]
            print(f"{function:<10} {sampler:<12} {len(values):>5} {med:>14.6f} {q1:>12.6f} {q3:>12.6f} "
                  f"{med - OPTIMA[function]:>14.2e} {statistics.median(qseconds[(function, sampler)]):>7.2f}")
        peers = {k: v for k, v in regrets.items() if not k.startswith("hpod")}
        if "hpod-bayes" in regrets and peers:
            best_peer = min(peers, key=peers.get)
            ok = regrets["hpod-bayes"] <= peers[best_peer] + 1e-3
            print(f"  -> hpod-bayes median regret {regrets['hpod-bayes']:.2e} vs best peer {best_peer} "
                  f"{peers[best_peer]:.2e}: {'MET' if ok else 'NOT MET'} (target: no worse, or within 1e-3)")

    print("\nSpeed: seconds per suggestion (median of timed suggestions after one warm-up)")
    print(f"{'dim':>4} {'observations':>12} {'hpod-bayes':>11} {'optuna-gp':>10} {'ratio':>8}   "
          f"{'hpod, reference BLAS':>20}")
    keys = sorted({(d, n) for d, n, _ in speed})
    for d, n in keys:
        h = speed.get((d, n, "hpod-bayes"))
        o = speed.get((d, n, "optuna-gp"))
        hm = statistics.median(h) if h else float("nan")
        om = statistics.median(o) if o else float("nan")
        ratio = om / hm if h and o else float("nan")
        r = speed.get((d, n, "hpod-bayes-refblas"))
        ref = f"{statistics.median(r):>20.4f}" if r else f"{'':>20}"
        target = "  (target >= 10x)" if n >= 300 else ""
        print(f"{d:>4} {n:>12} {hm:>11.4f} {om:>10.4f} {ratio:>7.1f}x   {ref}{target}")


if __name__ == "__main__":
    main(sys.argv[1])
