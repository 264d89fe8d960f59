# Every target builds its own virtualenv from the repo's files alone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck gen bench clean

$(BIN)/.installed: pyproject.toml
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed  ## the main job: bulk duplication against the embedded emulator
	$(BIN)/nuextract --emulator bulk-duplicate --copies 1000 --concurrency 32

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

gen: $(BIN)/.installed
	$(BIN)/python -m nuextract_sync._codegen

test: $(BIN)/.installed lint typecheck
	$(BIN)/python -m nuextract_sync._codegen --check
	$(BIN)/python -X dev -m pytest -W error

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist
