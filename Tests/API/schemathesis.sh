#!/usr/bin/env bash
# Checks a live `hpod serve` against docs/openapi.yaml with schemathesis: generated and mutated
# requests to every operation (event streams aside: they never end), bounded in time. Fails on
# any 5xx, any response that does not conform (status, content type, schema), any invalid
# request accepted, any request that gets through without the token. Two checks are left out:
# `unsupported_method` (an undeclared method on a known path is a 404, not a 405) and
# `positive_data_acceptance` (requests the schema allows but the study rejects on meaning, such
# as a heatmap over a parameter the study does not have, are 400s that say why). Run by
# `make test` after the Swift suite.
#
#   Tests/API/schemathesis.sh [SECONDS]     (default 60)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-60}"
st="$root/.venv/schemathesis/bin/schemathesis"
hpod="$root/.build/debug/hpod"
work="$(mktemp -d /tmp/hpod-schemathesis-XXXXXX)"
port=$((20000 + RANDOM % 20000))
token="schemathesis-$RANDOM$RANDOM"
export HPOD_HOME="$work/home"

HPOD_TOKEN="$token" "$hpod" serve --port "$port" --log-level warning >"$work/serve.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

# Something to read: a finished study with trials, and an ask-and-tell study to ask and tell.
cat >"$work/study.yaml" <<'YAML'
name: schemathesis
objective: {metric: score, direction: maximize}
search: {algorithm: random, seed: 1, max_trials: 4}
parameters: {x: {type: float, min: 0, max: 1}, kind: {values: [a, b]}}
trial: {command: [sh, -c, 'echo "hpod {\"step\": 1, \"score\": 0.5}"']}
tiers: {quick_test: {}, full_training: {}}
YAML
cat >"$work/told.yaml" <<'YAML'
name: told
objective: {metric: score, direction: maximize}
search: {algorithm: random, seed: 1, max_trials: 1000}
parameters: {x: {type: float, min: 0, max: 1}}
YAML
for spec in study told; do
  curl -sf -H "Authorization: Bearer $token" --data-binary "@$work/$spec.yaml" \
    "http://127.0.0.1:$port/api/v1/studies" >/dev/null
done
sleep 1

echo "==> schemathesis against hpod serve on port $port for up to ${seconds}s"
status=0
"$st" run "$root/docs/openapi.yaml" --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $token" --checks all --exclude-checks unsupported_method,positive_data_acceptance \
  --exclude-path-regex '/events$' --max-time "$seconds" --seed 1 --workers 1 --request-timeout 10 \
  --warnings off >"$work/report.txt" 2>&1 || status=$?
tail -n 25 "$work/report.txt"
cp "$work/report.txt" "${HPOD_SCHEMATHESIS_REPORT:-/tmp/hpod-schemathesis-report.txt}"
if ! kill -0 "$daemon" 2>/dev/null; then
  echo "hpod serve died during the run:"; tail -n 20 "$work/serve.log"; exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "schemathesis found problems (full report above); the daemon log ends with:"; tail -n 10 "$work/serve.log"
fi
exit "$status"
