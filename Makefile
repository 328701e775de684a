# hpod — two commands on a fresh Debian machine (as root, or with sudo):
#   make demo   installs what is missing, builds, runs the example study end to end
#   make test   installs what is missing, builds, runs the whole test suite

SWIFT ?= swift
APT_PACKAGES := libsqlite3-dev libblas-dev liblapacke-dev libopenblas-dev python3 python3-venv chromium curl
DEMO_HOME := $(CURDIR)/.hpod-demo
HPOD := .build/debug/hpod
MLFLOW_VERSION := 3.17.2
MLFLOW_VENV := $(CURDIR)/.venv/mlflow
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_VENV := $(CURDIR)/.venv/schemathesis

.PHONY: deps mlflow schemathesis build demo demo-mlflow mlflow-stop example test lint format bench bench-scheduler bench-strategies bench-early-stopping bench-api bench-tracking bench-dashboard

## Installs the system packages the build and the examples need, only those missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c "import numpy" 2>/dev/null || { \
	  echo "==> installing numpy for the example trainers"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-numpy >/dev/null 2>&1; \
	  python3 -c "import numpy" 2>/dev/null || python3 -m pip install --quiet numpy; }
	@command -v $(SWIFT) >/dev/null || { echo "swift is not on PATH (expected /opt/swift/usr/bin)"; exit 1; }

## Installs MLflow (server and client) into .venv/mlflow: the MLflow mirror's tests start real
## servers from it, and `make demo-mlflow` shows the mirror in MLflow's UI.
mlflow: deps
	@$(MLFLOW_VENV)/bin/python -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$(MLFLOW_VERSION)')" 2>/dev/null || { \
	  echo "==> installing mlflow $(MLFLOW_VERSION) into .venv/mlflow (about a minute)"; \
	  rm -rf $(MLFLOW_VENV) && python3 -m venv $(MLFLOW_VENV) && \
	  $(MLFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check mlflow==$(MLFLOW_VERSION); }

## Installs schemathesis into .venv/schemathesis: make test checks a live daemon against
## docs/openapi.yaml with it.
schemathesis: deps
	@$(SCHEMATHESIS_VENV)/bin/schemathesis --version 2>/dev/null | grep -q "$(SCHEMATHESIS_VERSION)" || { \
	  echo "==> installing schemathesis $(SCHEMATHESIS_VERSION) into .venv/schemathesis"; \
	  rm -rf $(SCHEMATHESIS_VENV) && python3 -m venv $(SCHEMATHESIS_VENV) && \
	  $(SCHEMATHESIS_VENV)/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION); }

build: deps
	$(SWIFT) build

## Runs the spirals MLP study on a store of its own (.hpod-demo/) and prints the best configuration.
demo: build
	@rm -rf $(DEMO_HOME)
	HPOD_HOME=$(DEMO_HOME) $(HPOD) run examples/spirals/study.yaml

## The demo study mirrored to a local MLflow server (started here on MLFLOW_PORT, default
## 5000, and left running so its UI can be opened; `make mlflow-stop` stops it).
MLFLOW_DEMO := $(CURDIR)/.hpod-demo-mlflow
MLFLOW_PORT ?= 5000
demo-mlflow: build mlflow
	@mkdir -p $(MLFLOW_DEMO)
	@curl -sf http://127.0.0.1:$(MLFLOW_PORT)/health >/dev/null || { \
	  echo "==> starting MLflow on http://127.0.0.1:$(MLFLOW_PORT) (a fresh store in .hpod-demo-mlflow/)"; \
	  rm -rf $(MLFLOW_DEMO)/mlflow.db $(MLFLOW_DEMO)/artifacts; \
	  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false setsid $(MLFLOW_VENV)/bin/mlflow server \
	    --backend-store-uri sqlite:///$(MLFLOW_DEMO)/mlflow.db --artifacts-destination $(MLFLOW_DEMO)/artifacts \
	    --host 127.0.0.1 --port $(MLFLOW_PORT) --workers 1 >$(MLFLOW_DEMO)/server.log 2>&1 & echo $$! >$(MLFLOW_DEMO)/server.pid; \
	  for i in $$(seq 120); do curl -sf http://127.0.0.1:$(MLFLOW_PORT)/health >/dev/null && break; sleep 0.5; done; }
	@rm -rf $(MLFLOW_DEMO)/home
	PATH=$(MLFLOW_VENV)/bin:$$PATH MLFLOW_TRACKING_URI=http://127.0.0.1:$(MLFLOW_PORT) HPOD_HOME=$(MLFLOW_DEMO)/home \
	  $(HPOD) run examples/spirals/study.yaml
	@HPOD_HOME=$(MLFLOW_DEMO)/home $(HPOD) tracking status
	@echo "MLflow UI: http://127.0.0.1:$(MLFLOW_PORT)/#/experiments (experiment spirals-mlp, model spirals-mlp); make mlflow-stop stops it"

mlflow-stop:
	@if [ -f $(MLFLOW_DEMO)/server.pid ]; then pid=$$(cat $(MLFLOW_DEMO)/server.pid); kill -TERM -$$pid 2>/dev/null; \
	  for i in $$(seq 20); do kill -0 -$$pid 2>/dev/null || break; sleep 0.5; done; kill -KILL -$$pid 2>/dev/null; \
	  rm -f $(MLFLOW_DEMO)/server.pid; echo "MLflow stopped"; else echo "no demo MLflow server is running"; fi

## Runs one example study on its own store: make example NAME=rag-config (see examples/README.md).
example: build
	@test -n "$(NAME)" -a -f examples/$(NAME)/study.yaml || { echo "usage: make example NAME=<$$(ls examples | grep -v README | tr '\n' ' ')>"; exit 2; }
	HPOD_HOME=$(CURDIR)/.hpod-examples/$(NAME) $(HPOD) run --new examples/$(NAME)/study.yaml

test: deps mlflow schemathesis
	$(SWIFT) build --build-tests
	HPOD_MLFLOW=$(MLFLOW_VENV)/bin/mlflow $(SWIFT) test --skip-build --skip hpodTests
	# End to end (real hpod processes, daemons, Chromium) one at a time: run side by side on
	# 2 cores they measure the machine's load, not hpod.
	HPOD_MLFLOW=$(MLFLOW_VENV)/bin/mlflow $(SWIFT) test --skip-build --no-parallel --filter hpodTests
	Tests/API/schemathesis.sh 60

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests bench/strategies/swift bench/tracking/swift bench/dashboard/swift Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests bench/strategies/swift bench/tracking/swift bench/dashboard/swift Package.swift

## Benchmarks (release builds); each prints a table against its peer.
bench: bench-scheduler bench-strategies bench-early-stopping bench-api bench-tracking bench-dashboard

bench-scheduler: deps
	bench/scheduler/run

bench-strategies: deps
	bench/strategies/run

bench-early-stopping: deps
	bench/early_stopping/run

bench-api: deps
	bench/api/run

bench-tracking: deps mlflow
	bench/tracking/run

## The dashboard of a 5,000-trial study against MLflow's runs/search (installs MLflow 3.17.2
## into .venv/mlflow when missing; MLFLOW_VENV=... uses another venv).
bench-dashboard: deps mlflow
	bench/dashboard/run
