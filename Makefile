# `make run` starts the dashboard, `make test` runs every test; both create the venv when missing
# and install exactly the versions in locks/py<X.Y>.txt (what CI tested on that Python).
#   make test                  python3 from PATH, venv .venv
#   make test PYTHON=3.13      pyenv's 3.13 (or python3.13 on PATH), venv .venv-3.13
#   make test-core PYTHON=3.12 install + ruff + tests/core only
#   make test-compat PYTHON=3.13  install + ruff + the tests that cross every library boundary
#   make lock                  re-resolve locks/ for every supported Python and print what changed
#   make canary                newest releases (no lock, no upper bounds) + a small test set
PYTHON ?=
VENV ?= $(if $(PYTHON),.venv-$(PYTHON),.venv)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHONS ?= 3.10 3.11 3.12 3.13
UV ?=

# One module per library boundary (torch training, transformers, shap on text/image/table and its
# custom maskers, duckdb, LightGBM, ONNX export, Streamlit pages, the privacy end-to-end): what
# CI runs on the Pythons whose packages another Python's full run already covers (less one
# 2-minute network-fitting test of test_trees.py that tests no library boundary).
COMPAT_TESTS := $(addprefix tests/core/test_,cli_startup.py store.py trees.py text_model.py \
	explain_text.py explain_tabular.py explain_image.py whatif.py export.py privacy_end_to_end.py) \
	tests/dashboard/test_predict_explain_export.py \
	--deselect tests/core/test_trees.py::test_network_fits_a_skewed_target_on_the_scale_that_wins_on_validation

.PHONY: run test test-core test-compat lint bench browser-deps lock canary clean

$(STAMP): pyproject.toml $(wildcard locks/py*.txt)
	test -x $(PY) || $(if $(PYTHON),$$(.ci/find_python $(PYTHON)),python3) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@# The lock pins torch's release; pip takes its CPU build where one lies in pip's find-links
	@# folder (CPython 3.11 here) and the default build (CUDA, also runs on a CPU) elsewhere.
	@# UV (set by .ci/run): install with uv instead, which hardlinks one copy of each package
	@# across venvs (the four CI venvs then fit the CI machine's disk). --compile-bytecode does
	@# what pip does by default: without .pyc files (uv writes none, and PYTHONDONTWRITEBYTECODE
	@# stops Python writing them) every process compiles torch & co. again, about 9 s each.
	lock=locks/py$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])').txt; \
	if [ ! -f $$lock ]; then echo "No $$lock: this Python is not supported/tested (see README)." \
		"Use PYTHON=3.10 ... 3.13, or add it to .ci/lock.py and run make lock."; exit 1; fi; \
	if [ -n "$(UV)" ]; then $(UV) pip install -q --compile-bytecode --python $(PY) -c $$lock -e '.[dev]'; \
	else $(PY) -m pip install -q -c $$lock -e '.[dev]'; fi
	@# Build the person-name lexicon's cache now (about 4 s, once per user and package version),
	@# as pip compiles bytecode at install: otherwise the first masked output of the first run pays it.
	$(PY) -m core.privacy.name_lexicon
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run dashboard/app.py

browser-deps:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "browser tests need Chromium: sudo apt-get install chromium"; fi; }

test: $(STAMP) browser-deps
	$(PY) -m ruff check .
	$(PY) -m pytest

test-core: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest tests/core

test-compat: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest $(COMPAT_TESTS)

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	for b in benchmarks/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock:
	python3 .ci/lock.py $(PYTHONS)

canary:
	python3 .ci/canary.py $(or $(PYTHON),3.13)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
