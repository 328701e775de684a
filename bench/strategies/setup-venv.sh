#!/usr/bin/env bash
# Creates bench/.work/venv (ignored by git) and installs the peers from PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$here/../.work"
venv="$work/venv"
mkdir -p "$work"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import optuna, skopt, torch, scipy, greenlet' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet numpy scipy optuna scikit-optimize torch greenlet
fi
"$venv/bin/python" -c 'import optuna, skopt, torch, scipy; print("peers:", "optuna", optuna.__version__, "skopt", skopt.__version__, "torch", torch.__version__, "scipy", scipy.__version__)'
