# pesaguard: `make help` lists the targets. Every target creates or refreshes .venv by itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck unit bench clean

help: ## List the targets with what each does
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -U pip setuptools wheel
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,spark,deep]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

demo: $(STAMP) ## The main job: simulate a month, store it, train and evaluate, then serve API + console with live traffic (Ctrl-C stops)
	@$(VENV)/bin/pesaguard demo

test: $(STAMP) lint typecheck unit ## Lint, type-check and run the whole test suite

lint: $(STAMP) ## ruff over the code, tests and benchmarks
	@$(VENV)/bin/ruff check $(wildcard src tests benchmarks)

typecheck: $(STAMP) ## mypy over the package
	@$(VENV)/bin/mypy

unit: $(STAMP) ## pytest on 2 workers, a file per worker (module fixtures are shared within a file); PESAGUARD_TEST_POSTGRES_URL adds PostgreSQL
	@$(VENV)/bin/pytest -n 2 --dist loadfile --doctest-modules src tests $(PYTEST_ARGS)

bench: $(STAMP) ## Run every benchmark and print the figures for docs/benchmarks.md
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean: ## Remove the virtualenv, caches and the local .pesaguard home
	rm -rf $(VENV) .pesaguard .pytest_cache .mypy_cache .ruff_cache
