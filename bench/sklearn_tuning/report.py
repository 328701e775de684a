"""Prints the bench/sklearn_tuning tables from the JSON lines of one run or several.

For each problem and each way of running it (batches of 8, or sequential), every optimizer's
normalized score over seeds:

    score = (E[random best] - best found) / (E[random best] - best known)

1 is the best loss known for the problem (the least of every evaluation in the on-disk cache,
whatever found it), 0 is what random search with the same budget finds on average, below 0 is
worse than that. E[random best] is the expected least of `budget` draws from the pool of every
loss that hpod's random search evaluated on the problem (all its seeds; sampling with
replacement). Per problem: the median and the 25th percentile (the bad tail) over seeds;
then the mean over problems of both; with hpod's ratio to the best peer's (the best of the
non-hpod optimizers other than random). Every optimizer of a problem is compared on the seeds
they all ran.

  python3 report.py FILE.jsonl [FILE.jsonl ...]
"""

import json
import os
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402

HPOD = "hpod-bayes"
RANDOM = "hpod-random"
ORDER = [HPOD, "optuna-gp", "optuna-tpe", "skopt-gp", "hebo", RANDOM]


def percentile(values, q):
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def expected_min(pool, budget):
    """E[min of `budget` draws with replacement from `pool`]."""
    xs = sorted(pool)
    n = len(xs)
    total = 0.0
    for i, x in enumerate(xs):
        total += x * (((n - i) / n) ** budget - ((n - i - 1) / n) ** budget)
    return total


def load(paths):
    rows = []
    for path in paths:
        with open(path) as handle:
            rows += [json.loads(line) for line in handle if line.startswith("{")]
    return [row for row in rows if row.get("kind") == "study"]


def ratio(a, b):
    return f"{a / b:.2f}x" if b > 0 and a > 0 else "n/a"


def main(paths):
    rows = load(paths)
    runs = defaultdict(dict)  # (problem, batch, optimizer) -> {seed: losses}
    for row in rows:
        runs[(row["problem"], row["batch"], row["optimizer"])][row["seed"]] = row["losses"]
    cache = problems.Cache()
    batches = sorted({k[1] for k in runs}, reverse=True)
    seconds = defaultdict(list)
    for row in rows:
        seconds[(row["optimizer"], row["batch"])].append(row["suggest_seconds"])

    scores_by_batch = {}
    scales = {}  # problem -> (E[random best], best known)
    for batch in batches:
        scores_of = {}  # (problem, optimizer) -> {seed: score}, every seed it ran
        label = f"batches of {batch}" if batch > 1 else "sequential"
        print(f"\n## {label}: normalized score (1 = best known, 0 = random search's expected best)\n")
        per_problem = {}  # problem -> {optimizer: (median, Q1)} on hpod's seeds
        problem_names = [p for p in problems.NAMES if any(k[0] == p and k[1] == batch for k in runs)]
        optimizers = [o for o in ORDER if any(k[1] == batch and k[2] == o for k in runs)]
        optimizers += sorted({k[2] for k in runs if k[1] == batch} - set(optimizers))
        print("| problem | seeds | " + " | ".join(f"{o} median / Q1" for o in optimizers) + " | hpod / best peer (median, Q1) |")
        print("|---|---|" + "---|" * len(optimizers) + "---|")
        complete = []
        for problem in problem_names:
            present = {o: runs[(problem, batch, o)] for o in optimizers if (problem, batch, o) in runs}
            # The seeds hpod ran: optimizers that ran all of them are compared on them; one that
            # ran fewer is shown on its own seeds ("k seeds") and left out of verdicts and means.
            reference = set(present.get(HPOD, {})) or set.intersection(*(set(v) for v in present.values()))
            random_pool = [x for k, v in runs.items() if k[0] == problem and k[2] == RANDOM for losses in v.values()
                           for x in losses]
            if not reference or not random_pool:
                continue
            budget = len(next(iter(present.values()))[next(iter(next(iter(present.values()))))])
            best_known = min([x for k, v in runs.items() if k[0] == problem for losses in v.values() for x in losses]
                             + [cache.best_known(problem)])
            expected = expected_min(random_pool, budget)
            scale = expected - best_known
            scales[problem] = (expected, best_known)

            def score(losses):
                return (expected - min(losses)) / scale if scale > 0 else 0.0

            for o, by_seed in present.items():
                scores_of[(problem, o)] = {s: score(v) for s, v in by_seed.items()}
            cells = []
            stats = {}
            for o in optimizers:
                if o not in present:
                    cells.append("—")
                    continue
                own = set(present[o])
                seeds = sorted(reference) if reference <= own else sorted(own)
                scores = [score(present[o][s]) for s in seeds]
                median, q1 = statistics.median(scores), percentile(scores, 0.25)
                if reference <= own:
                    stats[o] = (median, q1)
                    cells.append(f"{median:.3f} / {q1:.3f}")
                else:
                    cells.append(f"({median:.3f} / {q1:.3f}, {len(seeds)} seeds)")
            per_problem[problem] = stats
            peers = {o: v for o, v in stats.items() if not o.startswith("hpod")}
            verdict = "—"
            if HPOD in stats and peers:
                best_median = max(peers.items(), key=lambda kv: kv[1][0])
                best_q1 = max(peers.items(), key=lambda kv: kv[1][1])
                verdict = (f"{ratio(stats[HPOD][0], best_median[1][0])} ({best_median[0]}), "
                           f"{ratio(stats[HPOD][1], best_q1[1][1])} ({best_q1[0]})")
            print(f"| {problem} | {len(reference)} | " + " | ".join(cells) + f" | {verdict} |")
        # The mean over the problems every optimizer ran on hpod's seeds; then, when that
        # leaves problems out, over all problems for the optimizers that ran every one.
        everyone = [p for p, st in per_problem.items() if len(st) == len(optimizers)]
        groups = [(everyone, optimizers)]
        if len(everyone) < len(per_problem):
            most = [o for o in optimizers if all(o in st for st in per_problem.values())]
            groups.append((list(per_problem), most))
        for chosen, group in groups:
            if not chosen or not group:
                continue
            means = {o: (statistics.mean(per_problem[p][o][0] for p in chosen),
                         statistics.mean(per_problem[p][o][1] for p in chosen)) for o in group}
            cells = [f"{means[o][0]:.3f} / {means[o][1]:.3f}" if o in means else "—" for o in optimizers]
            peers = {o: v for o, v in means.items() if not o.startswith("hpod")}
            verdict = "—"
            if HPOD in means and peers:
                best_median = max(peers.items(), key=lambda kv: kv[1][0])
                best_q1 = max(peers.items(), key=lambda kv: kv[1][1])
                verdict = (f"{ratio(means[HPOD][0], best_median[1][0])} ({best_median[0]}), "
                           f"{ratio(means[HPOD][1], best_q1[1][1])} ({best_q1[0]})")
            print(f"| mean over {len(chosen)} problems | | " + " | ".join(cells) + f" | {verdict} |")
            ranks = defaultdict(list)
            for p in chosen:
                ordered = sorted(group, key=lambda o: -per_problem[p][o][0])
                for rank, o in enumerate(ordered, 1):
                    ranks[o].append(rank)
            print(f"\nmean rank of the median over those {len(chosen)} problems: "
                  + ", ".join(f"{o} {statistics.mean(ranks[o]):.1f}" for o in group) + "\n")
        print("\nseconds spent suggesting per study (median over studies): "
              + ", ".join(f"{o} {statistics.median(seconds[(o, batch)]):.1f}" for o in optimizers
                          if seconds[(o, batch)]))
        scores_by_batch[batch] = scores_of

    print("\n## what is at stake: random search's expected best against the best known loss\n")
    print("| problem | loss | E[random best of 128] | best known | difference |")
    print("|---|---|---|---|---|")
    for problem, (expected, best_known) in scales.items():
        print(f"| {problem} | {problems.PROBLEMS[problem]['loss']} ({problems.PROBLEMS[problem]['folds']}-fold) | "
              f"{expected:.5g} | {best_known:.5g} | {100 * (expected - best_known) / abs(expected):.2f}% |")

    # Batches against sequential: the same optimizer, problem and seeds.
    if len(batches) > 1:
        print("\n## batches of 8 against sequential: median score (seeds both ran)\n")
        print("| problem | optimizer | seeds | batches of 8 | sequential |")
        print("|---|---|---|---|---|")
        for (problem, optimizer), sequential in sorted(scores_by_batch[1].items()):
            batched = scores_by_batch[batches[0]].get((problem, optimizer))
            if not batched:
                continue
            common = sorted(set(batched) & set(sequential))
            if common:
                print(f"| {problem} | {optimizer} | {len(common)} | "
                      f"{statistics.median(batched[s] for s in common):.3f} | "
                      f"{statistics.median(sequential[s] for s in common):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
