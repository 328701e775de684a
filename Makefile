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
SKLEARN_VERSION := 1.9.1
EXAMPLES_VENV := $(CURDIR)/.venv/examples

.PHONY: deps slurm mlflow schemathesis examples-venv build demo demo-mlflow demo-slurm slurm-stop mlflow-stop example test lint format bench bench-scheduler bench-strategies bench-multi-objective bench-early-stopping bench-pbt bench-api bench-tracking bench-dashboard bench-slurm bench-sklearn

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

## Installs Slurm (slurm-wlm: controller, node daemon, client commands) and munge, which its
## authentication needs, when missing: the Slurm executor's tests, `make demo-slurm` and
## bench/slurm run a single-node cluster on this machine (scripts/slurm-cluster).
slurm: deps
	@missing=""; for p in slurm-wlm munge; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing$$missing (about 20 s)"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## Installs MLflow (server and client) into .venv/mlflow: the MLflow mirror's tests start real
## servers from it, and `make demo-mlflow` shows the mirror in MLflow's UI. scikit-learn beside
## it: the logged-model tests log, autolog and load back scikit-learn models with that client.
mlflow: deps
	@$(MLFLOW_VENV)/bin/python -c "import mlflow, sklearn, sys; sys.exit(mlflow.__version__ != '$(MLFLOW_VERSION)' or sklearn.__version__ != '$(SKLEARN_VERSION)')" 2>/dev/null || { \
	  echo "==> installing mlflow $(MLFLOW_VERSION) and scikit-learn $(SKLEARN_VERSION) into .venv/mlflow (about a minute)"; \
	  rm -rf $(MLFLOW_VENV) && python3 -m venv $(MLFLOW_VENV) && \
	  $(MLFLOW_VENV)/bin/pip install --quiet --disable-pip-version-check mlflow==$(MLFLOW_VERSION) scikit-learn==$(SKLEARN_VERSION); }

## Installs schemathesis into .venv/schemathesis: make test checks a live daemon against
## docs/openapi.yaml with it.
schemathesis: deps
	@$(SCHEMATHESIS_VENV)/bin/schemathesis --version 2>/dev/null | grep -q "$(SCHEMATHESIS_VERSION)" || { \
	  echo "==> installing schemathesis $(SCHEMATHESIS_VERSION) into .venv/schemathesis"; \
	  rm -rf $(SCHEMATHESIS_VENV) && python3 -m venv $(SCHEMATHESIS_VENV) && \
	  $(SCHEMATHESIS_VENV)/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION); }

## Installs scikit-learn into .venv/examples for the sklearn-digits example (make example and
## make test run it with that venv first on PATH).
examples-venv: deps
	@$(EXAMPLES_VENV)/bin/python -c "import sklearn, sys; sys.exit(sklearn.__version__ != '$(SKLEARN_VERSION)')" 2>/dev/null || { \
	  echo "==> installing scikit-learn $(SKLEARN_VERSION) into .venv/examples"; \
	  rm -rf $(EXAMPLES_VENV) && python3 -m venv $(EXAMPLES_VENV) && \
	  $(EXAMPLES_VENV)/bin/pip install --quiet --disable-pip-version-check scikit-learn==$(SKLEARN_VERSION); }

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

## The spirals study with every trial a Slurm job, on a single-node cluster started here
## (in .slurm-demo/, left running so `squeue` and `sinfo` can be tried; `make slurm-stop`
## stops it).
SLURM_DEMO := $(CURDIR)/.slurm-demo
demo-slurm: build slurm
	@SLURM_CONF=$(SLURM_DEMO)/slurm.conf sinfo -h >/dev/null 2>&1 || { \
	  echo "==> starting a single-node Slurm cluster in .slurm-demo/"; scripts/slurm-cluster start $(SLURM_DEMO) >/dev/null; }
	@rm -rf $(SLURM_DEMO)/home
	SLURM_CONF=$(SLURM_DEMO)/slurm.conf HPOD_HOME=$(SLURM_DEMO)/home $(HPOD) run examples/spirals/study-slurm.yaml
	@echo "Its jobs, as Slurm saw them (finished jobs stay listed for MinJobAge, 30 s):"
	@SLURM_CONF=$(SLURM_DEMO)/slurm.conf squeue --me --states=all --format="%.6i %.16j %.10T %.8M %N" | head -8
	@echo "The cluster is still up: SLURM_CONF=$(SLURM_DEMO)/slurm.conf squeue --states=all; make slurm-stop stops it"

slurm-stop:
	@scripts/slurm-cluster stop $(SLURM_DEMO) && echo "Slurm demo cluster stopped"

mlflow-stop:
	@if [ -f $(MLFLOW_DEMO)/server.pid ]; then pid=$$(cat $(MLFLOW_DEMO)/server.pid); kill -TERM -$$pid 2>/dev/null; \
	  for i in $$(seq 20); do kill -0 -$$pid 2>/dev/null || break; sleep 0.5; done; kill -KILL -$$pid 2>/dev/null; \
	  rm -f $(MLFLOW_DEMO)/server.pid; echo "MLflow stopped"; else echo "no demo MLflow server is running"; fi

## Runs one example study on its own store: make example NAME=rag-config (see examples/README.md).
example: build
	@test -n "$(NAME)" -a -f examples/$(NAME)/study.yaml || { echo "usage: make example NAME=<$$(ls examples | grep -v README | tr '\n' ' ')>"; exit 2; }
	@# mlflow-script's and sklearn-autolog's trainers import mlflow (sklearn-autolog scikit-learn too, which
	@# .venv/mlflow has), sklearn-digits' scikit-learn: each runs with its venv first on PATH.
	@if [ "$(NAME)" = mlflow-script ] || [ "$(NAME)" = sklearn-autolog ]; then $(MAKE) -s mlflow; fi
	@if [ "$(NAME)" = sklearn-digits ]; then $(MAKE) -s examples-venv; fi
	$(if $(filter mlflow-script sklearn-autolog,$(NAME)),PATH=$(MLFLOW_VENV)/bin:$$PATH) $(if $(filter sklearn-digits,$(NAME)),PATH=$(EXAMPLES_VENV)/bin:$$PATH) HPOD_HOME=$(CURDIR)/.hpod-examples/$(NAME) $(HPOD) run --new examples/$(NAME)/study.yaml

## One single-node Slurm cluster serves the Slurm tests of the run; it is stopped by its
## pids afterwards, whether the tests pass or not. The outage tests (a killed controller, a
## drained node) start clusters of their own beside it, on ports of their own.
SLURM_TEST := $(CURDIR)/.build/slurm-test
test: deps slurm mlflow schemathesis examples-venv
	$(SWIFT) build --build-tests
	@scripts/slurm-cluster start $(SLURM_TEST) >/dev/null
	@status=0; \
	echo "# The search libraries' CPU-bound tests first, on their own: beside the scheduler's tests they"; \
	echo "# hold both cores' worker threads for seconds, and a trial's timeout timer waits for them."; \
	$(SWIFT) test --skip-build --filter SearchStrategiesTests --filter MultiObjectiveTests || status=$$?; \
	if [ $$status = 0 ]; then \
	  SLURM_CONF=$(SLURM_TEST)/slurm.conf HPOD_MLFLOW=$(MLFLOW_VENV)/bin/mlflow $(SWIFT) test --skip-build --skip hpodTests \
	    --skip SearchStrategiesTests --skip MultiObjectiveTests || status=$$?; \
	fi; \
	if [ $$status = 0 ]; then \
	  echo "# End to end (real hpod processes, daemons, Chromium) one at a time: run side by side on"; \
	  echo "# 2 cores they measure the machine's load, not hpod."; \
	  SLURM_CONF=$(SLURM_TEST)/slurm.conf HPOD_MLFLOW=$(MLFLOW_VENV)/bin/mlflow HPOD_EXAMPLES_PYTHON=$(EXAMPLES_VENV)/bin/python3 $(SWIFT) test --skip-build --no-parallel --filter hpodTests || status=$$?; \
	fi; \
	scripts/slurm-cluster stop $(SLURM_TEST); exit $$status
	Tests/API/schemathesis.sh 60

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests bench/strategies/swift bench/tracking/swift bench/dashboard/swift bench/multi_objective/swift bench/sklearn_tuning/swift Package.swift bench/Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests bench/strategies/swift bench/tracking/swift bench/dashboard/swift bench/multi_objective/swift bench/sklearn_tuning/swift Package.swift bench/Package.swift

## Benchmarks (release builds); each prints a table against its peer.
bench: bench-scheduler bench-strategies bench-sklearn bench-multi-objective bench-early-stopping bench-pbt bench-api bench-tracking bench-dashboard bench-slurm

bench-scheduler: deps
	bench/scheduler/run

bench-strategies: deps
	bench/strategies/run

## scikit-learn tuning in batches of 8 against Optuna TPE/GPSampler, scikit-optimize and
## HEBO (bench/sklearn_tuning/README.md; installs the peers into bench/.work). The full run
## takes hours on two cores: BENCH_ARGS=--quick for three problems and three seeds.
bench-sklearn: deps
	bench/sklearn_tuning/run $(BENCH_ARGS)

## Hypervolume after 100 trials on ZDT1, ZDT2, DTLZ2 and C2-DTLZ2 against Optuna's
## NSGA-II, TPE and GPSampler.
bench-multi-objective: deps
	bench/multi_objective/run

## Epochs spent and best result of hpod's early-stopping rules against Optuna's pruners and
## Ray Tune's ASHA and HyperBand (Ray in its own venv, bench/.work/ray-venv).
bench-early-stopping: deps
	bench/early_stopping/run

## Population-based training against Ray Tune's PopulationBasedTraining and random search on
## the PBT paper's toy and an MLP on digits (Ray in bench/.work/ray-venv).
bench-pbt: deps
	bench/pbt/run $(BENCH_ARGS)

bench-api: deps
	bench/api/run

bench-tracking: deps mlflow
	bench/tracking/run

## The dashboard of a 5,000-trial study against MLflow's runs/search (installs MLflow 3.17.2
## into .venv/mlflow when missing; MLFLOW_VENV=... uses another venv).
bench-dashboard: deps mlflow
	bench/dashboard/run

## Per-trial overhead and throughput of Slurm jobs against local processes, on a
## single-node cluster started for the run.
bench-slurm: deps slurm
	bench/slurm/run
