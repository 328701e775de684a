#!/usr/bin/env bash
# Creates the ignored venvs of bench/sklearn_tuning from PyPI:
#   bench/.work/venv       scikit-learn, Optuna, scikit-optimize (and torch, for Optuna's
#                          GPSampler); shared with bench/strategies
#   bench/.work/venv-hebo  HEBO, in a venv of its own: its pins on numpy and pandas must not
#                          move the other peers' versions. Its failure to install is reported,
#                          not fatal (run then leaves HEBO out).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$here/../.work"
venv="$work/venv"
mkdir -p "$work"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c 'import optuna, skopt, torch, scipy, greenlet, sklearn' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet numpy scipy optuna scikit-optimize torch greenlet scikit-learn
fi
"$venv/bin/python" -c 'import optuna, skopt, sklearn, torch; print("peers:", "optuna", optuna.__version__, "skopt", skopt.__version__, "scikit-learn", sklearn.__version__, "torch", torch.__version__)'

hebo="$work/venv-hebo"
if [[ ! -x "$hebo/bin/python" ]] || ! "$hebo/bin/python" -c 'import hebo' 2>/dev/null; then
  [[ -x "$hebo/bin/python" ]] || python3 -m venv "$hebo"
  if ! "$hebo/bin/pip" install --quiet hebo >"$work/venv-hebo-install.log" 2>&1; then
    echo "HEBO did not install: see $work/venv-hebo-install.log" >&2
  fi
fi
"$hebo/bin/python" -c 'import importlib.metadata as m; print("peers: hebo", m.version("hebo"), "numpy", m.version("numpy"))' 2>/dev/null || true
