# hpod — two commands on a fresh Debian machine (as root, or with sudo):
#   make demo   installs what is missing, builds, runs the example study end to end
#   make test   installs what is missing, builds, runs the whole test suite

SWIFT ?= swift
APT_PACKAGES := libsqlite3-dev libblas-dev liblapacke-dev libopenblas-dev python3 python3-venv chromium
DEMO_HOME := $(CURDIR)/.hpod-demo
HPOD := .build/debug/hpod

.PHONY: deps build demo example test lint format bench bench-scheduler bench-strategies bench-early-stopping bench-api bench-dashboard

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

build: deps
	$(SWIFT) build

## Runs the spirals MLP study on a store of its own (.hpod-demo/) and prints the best configuration.
demo: build
	@rm -rf $(DEMO_HOME)
	HPOD_HOME=$(DEMO_HOME) $(HPOD) run examples/spirals/study.yaml

## Runs one example study on its own store: make example NAME=rag-config (see examples/README.md).
example: build
	@test -n "$(NAME)" -a -f examples/$(NAME)/study.yaml || { echo "usage: make example NAME=<$$(ls examples | grep -v README | tr '\n' ' ')>"; exit 2; }
	HPOD_HOME=$(CURDIR)/.hpod-examples/$(NAME) $(HPOD) run --new examples/$(NAME)/study.yaml

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests bench/strategies/swift bench/dashboard/swift Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests bench/strategies/swift bench/dashboard/swift Package.swift

## Benchmarks (release builds); each prints a table against its peer.
bench: bench-scheduler bench-strategies bench-early-stopping bench-api bench-dashboard

bench-scheduler: deps
	bench/scheduler/run

bench-strategies: deps
	bench/strategies/run

bench-early-stopping: deps
	bench/early_stopping/run

bench-api: deps
	bench/api/run

## The dashboard of a 5,000-trial study against MLflow's runs/search (installs MLflow 3.17.2
## into .venv/mlflow when missing; MLFLOW_VENV=... uses another venv).
bench-dashboard: deps
	bench/dashboard/run
