# Front door of the collection: every target uses the pinned virtualenv made by `make setup`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
COLLECTION_LINK := .collections/ansible_collections/enterprise_dr/orchestration
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup browser demo test test-unit test-integration lint sanity ruff cfn-lint bench reliability sandbox-start sandbox-stop clean molecule

help:
	@echo "make setup   - virtualenv with pinned dependencies (idempotent)"
	@echo "make demo    - start the sandbox, seed the demo estate, run the demo, stop the sandbox"
	@echo "make test    - unit + integration tests, ansible-lint, ruff, cfn-lint"
	@echo "make test-slow - the slow integration tests, Molecule, ansible-test sanity (CI runs it after make test)"
	@echo "make bench   - benchmarks (writes bench/results/latest.json)"
	@echo "make reliability - fault matrix and crash points (slow; figures to tests/reliability/results.jsonl)"

setup: $(STAMP) $(COLLECTION_LINK) browser

# Headless Chromium for the report tests (tests/integration/test_reports.py); Debian packages, installed with apt
# when missing and apt is usable (root), else the browser test says why it is skipped.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null \
	  || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null; } \
	  || echo "chromium could not be installed; the browser test will be skipped"; \
	else echo "chromium is missing: apt-get install chromium chromium-driver (as root) for the browser test"; fi

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# The repository root is the collection root; Ansible finds it through this link.
$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn ../../.. $(COLLECTION_LINK)

demo: setup
	$(PY) -m sandbox demo

test: test-unit test-integration lint ruff cfn-lint

# What `make test` leaves out to stay near 30 minutes on a 2-core machine; CI runs it after `make test` (.ci/run):
# the slow tier of the integration tests (tests/integration/conftest.py says which and why), the Molecule
# scenarios of the lifecycle roles and ansible-test sanity.
test-slow: test-integration-slow molecule sanity

test-integration-slow: setup
	$(PY) -m pytest -q -n $(INTEGRATION_WORKERS) --dist loadfile -m slow tests/integration

test-unit: setup
	$(PY) -m pytest -q tests/unit

# Each pytest-xdist worker starts its own sandbox; a test file stays on one worker.
INTEGRATION_WORKERS ?= 2
test-integration: setup
	$(PY) -m pytest -q -n $(INTEGRATION_WORKERS) --dist loadfile -m "not slow" tests/integration

# The default inventory (ansible.cfg) queries AWS; ansible-lint's syntax checks need none, so it gets an empty one.
lint: setup
	ANSIBLE_INVENTORY=/dev/null ANSIBLE_INVENTORY_ENABLED=ansible.builtin.ini $(BIN)/ansible-lint --profile production --offline

sanity: setup
	$(PY) tests/sanity/run_sanity.py $(SANITY_ARGS)

# Lifecycle role scenarios (extensions/molecule) against a sandbox started and stopped around them.
molecule: setup
	extensions/molecule/run.sh test --all

ruff: setup
	$(BIN)/ruff check .

# The CloudFormation templates are rendered from iam/policies (the one source of the permissions): fresh and valid.
cfn-lint: setup
	$(PY) -m iam.render --check
	$(BIN)/cfn-lint cloudformation/*.yml

# The before/after baseline: the collection before the technology adapter contract (DRS only, wired into the
# engine). `make bench BENCH_BASELINE=` measures this tree alone; BENCH_BASELINE=<any git revision> compares with it.
BENCH_BASELINE ?= b855fe86f28c49c52ee84658f3d6a6aa542a65ad
bench: setup
	$(PY) -m bench $(if $(BENCH_BASELINE),--baseline $(BENCH_BASELINE)) $(BENCH_ARGS)

# The fault matrix and the crash points (tests/reliability/, figures in docs/reliability.md). Slow, so not part of
# `make test`, which runs a representative subset (tests/integration/test_faults.py). RELIABILITY_ARGS=-k ... selects.
RELIABILITY_RESULTS ?= tests/reliability/results.jsonl
reliability: setup
	RELIABILITY_RESULTS=$(RELIABILITY_RESULTS) $(PY) -m pytest -q -n 0 -p no:cacheprovider tests/reliability $(RELIABILITY_ARGS)

sandbox-start: setup
	$(PY) -m sandbox start

sandbox-stop:
	$(PY) -m sandbox stop

clean:
	rm -rf build .collections .pytest_cache .ruff_cache
