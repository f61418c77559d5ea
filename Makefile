# sfjira: `make demo` runs the main job on embedded defaults; `make airflow` opens a live Airflow over the
# emulators until Ctrl-C; `make test` runs the whole suite.
# All create .venv, install the pinned requirements.txt and sfjira itself (editable) first; only PyPI
# is contacted.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp changes whenever requirements.txt or pyproject.toml does, so an edited pin reinstalls.
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo airflow airflow-celery test lint unit venv lock clean bench chaos latency scale scheduler-crash docs

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/python -m sfjira.demo

# SFJIRA_AIRFLOW_PORT picks the UI's port (default 8080, or a free one when it is taken; 0: any free one).
airflow: $(STAMP)
	$(BIN)/python -m sfjira.live

# The same on CeleryExecutor (docs/celery.md): PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379, two workers.
airflow-celery: $(STAMP)
	$(BIN)/python -m sfjira.live --executor celery

# mypy reads [tool.mypy] in pyproject.toml (plugins/sfjira, checked strictly).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Three workers on 2 cores, whole files per worker (module fixtures stay together): the live-Airflow files
# spend most of their minutes waiting on a scheduler, so a third worker overlaps them with CPU-bound files.
# In collection order (live-Airflow files first, tests/conftest.py), not xdist's most-tests-first order,
# which left the one-test files of several minutes to the end of the run.
PYTEST_ARGS ?= -n 3 --dist loadfile --no-loadscope-reorder --durations=25

test: $(STAMP) lint
	bash .ci/pytest.sh $(BIN)/python $(PYTEST_ARGS)

# docs/errors.md is generated from sfjira.error_catalog; a test fails when it is stale.
docs: $(STAMP)
	$(BIN)/python -m sfjira.cli errors --format markdown > docs/errors.md

bench: $(STAMP)
	for b in bench/*.py; do case "$$b" in bench/chaos.py|bench/latency.py|bench/scale.py|bench/harness.py|bench/scheduler_crash.py) continue;; esac; echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The chaos suite at its full size (2,000 records, 5 seeds): hours on 2 cores, hence not part of `bench`.
chaos: $(STAMP)
	$(BIN)/python bench/chaos.py

# Edit-to-arrival latency with a live Airflow (200 edits over 5 minutes by default): 10-15 min, not part of `bench`.
latency: $(STAMP)
	$(BIN)/python bench/latency.py

# 1,000,000 Opportunities first synced, then 100,000 updated each way, peak RSS per task (bench/scale.py): about
# 3 hours on 2 cores and ~6 GB for the Salesforce emulator (estimated from a 200,000-record run: 27 min), hence
# not part of `bench`. SCALE_ARGS="--records 20000 --updates 2000" for a short run (6 min).
SCALE_ARGS ?=
scale: $(STAMP)
	$(BIN)/python bench/scale.py $(SCALE_ARGS)

# Airflow 3.3.2's scheduler crash on a backfill reaching the latest interval (apache/airflow#59120) and the
# README's recovery, with a live scheduler: a race, up to 6 tries of a minute each; not part of `bench`.
scheduler-crash: $(STAMP)
	$(BIN)/python bench/scheduler_crash.py

# Regenerate the full pin set from pyproject.toml (runtime + the dev extra) in a scratch venv.
lock:
	rm -rf /tmp/sfjira-lock && $(PYTHON) -m venv /tmp/sfjira-lock
	/tmp/sfjira-lock/bin/pip install --quiet ".[dev]"
	{ head -3 requirements.txt; /tmp/sfjira-lock/bin/pip freeze | grep -vE '^(pip|setuptools|wheel|sfjira)( @|==)'; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .airflow .demo
