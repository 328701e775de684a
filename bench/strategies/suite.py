"""The shared suite of test functions, for both sides of bench/strategies.

Imports ../shared/bench/functions.py (read-only, outside this repository; override the path
with HPOD_BENCH_FUNCTIONS) and evaluates a function on a configuration given by name.

  python3 suite.py serve <function>
      prints the function's space as one JSON line ({"parameters": [...], "optimum": v}),
      then reads one JSON object of parameter values per line and answers each with its
      value, until end of input. The Swift side (bench-strategies quality) drives it.
  python3 suite.py list
      prints the function names, one a line.
"""

import importlib.util
import json
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_path = os.environ.get(
    "HPOD_BENCH_FUNCTIONS", os.path.normpath(os.path.join(_here, "..", "..", "..", "shared", "bench", "functions.py")))
_spec = importlib.util.spec_from_file_location("hpod_bench_functions", _path)
functions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(functions)

FUNCS = functions.FUNCS
NAMES = list(FUNCS)


def evaluate(fn, space, params):
    """The function's value at a configuration (a dict by parameter name)."""
    args = []
    for name, kind, _, _, _ in space:
        value = params[name]
        if kind == "int":
            value = int(round(value))
        elif kind == "float":
            value = float(value)
        args.append(value)
    return float(fn(*args))


def serve(name):
    space, fn, optimum = FUNCS[name]
    parameters = [{"name": n, "kind": k, "low": lo, "high": hi, "log": bool(log)} for n, k, lo, hi, log in space]
    print(json.dumps({"parameters": parameters, "optimum": optimum}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(repr(evaluate(fn, space, json.loads(line))), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif sys.argv[1] == "list":
        print("\n".join(NAMES))
