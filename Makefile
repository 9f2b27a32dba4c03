# The two commands of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The tests and the type check also need the test tools and the training code's PyTorch
# (the CPU wheel: see pyproject.toml's `train` extra); `serve` needs neither.
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: serve test lint format schema system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,train]'
	touch $(STAMP) $(DEV_STAMP)

## Serve the API on http://127.0.0.1:8000/graphql with embedded backends and demo data.
serve: $(STAMP)
	$(BIN)/pictograph serve --seed

## Install what the tests need, check style and types, run every test.
test: $(DEV_STAMP) system-packages lint
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Regenerate the committed SDL and contract manifest after a schema or contract change
## (a test fails when either drifts).
schema: $(STAMP)
	$(BIN)/pictograph export-schema schema.graphql
	$(BIN)/pictograph export-contract-manifest

# Real servers the integration and browser tests start, and Node for the client tests
# (tests/e2e/node: pytest runs `npm ci` there itself): Debian packages.
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .pictograph tests/e2e/node/node_modules
