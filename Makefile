# Two commands: `make run` builds the whole collection, `make test` runs the tests.
# Both create the project's virtual environment in .venv when it is missing or
# older than pyproject.toml. Only Python 3.11+ and pip are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= build
WORKERS ?= 2

.PHONY: all run test lint format bench bench-sweep calibrate clean venv

all: run

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/tipresearch run --out $(OUT) --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/bench_model.py

bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py

calibrate: $(STAMP)
	$(BIN)/tipresearch calibrate --out data/fit

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
