# sfjira: `make demo` runs the main job on embedded defaults; `make test` runs the whole suite.
# Both create .venv and install the pinned requirements.txt first (only PyPI is contacted).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp changes whenever requirements.txt does, so an edited pin reinstalls.
STAMP  := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)

.PHONY: demo test lint unit venv lock clean bench

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/python -m sfjira.demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	bash .ci/pytest.sh $(BIN)/python $(PYTEST_ARGS)

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Regenerate the full pin set from requirements.in in a scratch venv.
lock:
	rm -rf /tmp/sfjira-lock && $(PYTHON) -m venv /tmp/sfjira-lock
	/tmp/sfjira-lock/bin/pip install --quiet -r requirements.in
	{ head -3 requirements.txt; /tmp/sfjira-lock/bin/pip freeze | grep -vE '^(pip|setuptools|wheel)=='; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .airflow .demo
