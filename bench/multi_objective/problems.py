"""Standard multi-objective test problems with known Pareto fronts, for bench/multi_objective.

Every objective is minimized; every variable lies in [0, 1].
  zdt1, zdt2      Zitzler, Deb & Thiele (2000), 6 variables, 2 objectives: the fronts
                  f2 = 1 - sqrt(f1) (convex) and f2 = 1 - f1^2 (concave) at g = 1
  dtlz2           Deb, Thiele, Laumanns & Zitzler (2002), 3 objectives, 6 variables: the
                  front is the positive octant of the unit sphere
  c2dtlz2         DTLZ2 with 2 objectives and 6 variables under the C2 constraint of Jain &
                  Deb (2014), r = 0.2: feasible only near the front's ends and its middle

  python3 problems.py info <problem>     {"variables", "objectives", "reference", "best_hypervolume"}
  python3 problems.py serve <problem>    reads one JSON list x per line, answers
                                         {"f": [...], "violation": v, "constraints": [c...]}
                                         (v = 0: feasible; c <= 0: that constraint holds)
"""

import json
import math
import sys


def zdt(x, concave):
    f1 = x[0]
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    h = 1 - (f1 / g) ** 2 if concave else 1 - math.sqrt(f1 / g)
    return [f1, g * h], 0.0


def dtlz2_objectives(x, m):
    k = x[m - 1:]
    g = sum((v - 0.5) ** 2 for v in k)
    f = []
    for i in range(m):
        value = 1 + g
        for v in x[: m - 1 - i]:
            value *= math.cos(v * math.pi / 2)
        if i > 0:
            value *= math.sin(x[m - 1 - i] * math.pi / 2)
        f.append(value)
    return f


def c2_constraint(f, r=0.2):
    """C2's signed value: <= 0 inside one of the feasible arcs."""
    m = len(f)
    ends = min((f[i] - 1) ** 2 + sum(f[j] ** 2 for j in range(m) if j != i) - r * r for i in range(m))
    middle = sum((v - 1 / math.sqrt(m)) ** 2 for v in f) - r * r
    return min(ends, middle)


def c2_violation(f, r=0.2):
    return max(0.0, c2_constraint(f, r))


def c2dtlz2(x):
    f = dtlz2_objectives(x, 2)
    return f, c2_violation(f)


PROBLEMS = {
    "zdt1": (6, 2, lambda x: zdt(x, concave=False)),
    "zdt2": (6, 2, lambda x: zdt(x, concave=True)),
    "dtlz2": (6, 3, lambda x: (dtlz2_objectives(x, 3), 0.0)),
    "c2dtlz2": (6, 2, c2dtlz2),
}
REFERENCE = 1.1


def best_hypervolume(name, points=2000):
    """The hypervolume of the true front (to reference 1.1 in every objective), numerically."""
    ref = REFERENCE
    if name in ("zdt1", "zdt2"):
        h = (lambda f1: 1 - math.sqrt(f1)) if name == "zdt1" else (lambda f1: 1 - f1 * f1)
        step = 1.0 / points
        return (ref - 1) * ref + sum((ref - h((k + 0.5) * step)) * step for k in range(points))
    if name == "dtlz2":
        # The positive octant of the unit sphere leaves out an eighth of the unit ball.
        return ref ** 3 - math.pi / 6
    if name == "c2dtlz2":
        # The feasible arcs of the front f = (cos t, sin t), finely sampled.
        front = [(math.cos(t), math.sin(t)) for t in (k * math.pi / 2 / points for k in range(points + 1))]
        front = sorted(f for f in front if c2_violation(list(f)) == 0)
        area, ceiling = 0.0, ref
        for f1, f2 in front:
            if f2 < ceiling:
                area += (ref - f1) * (ceiling - f2)
                ceiling = f2
        return area
    return None


def main():
    command, name = sys.argv[1], sys.argv[2]
    variables, objectives, evaluate = PROBLEMS[name]
    if command == "info":
        print(json.dumps({"variables": variables, "objectives": objectives, "reference": [REFERENCE] * objectives,
                          "best_hypervolume": best_hypervolume(name)}))
        return
    for line in sys.stdin:
        x = json.loads(line)
        f, violation = evaluate(x)
        constraints = [c2_constraint(f)] if name == "c2dtlz2" else []
        print(json.dumps({"f": f, "violation": violation, "constraints": constraints}), flush=True)


if __name__ == "__main__":
    main()
