# gan_lab: `make train` and `make test` bootstrap .venv (idempotent) and then run.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A machine without CUDA gets the CPU build of torch (a plain `torch` pulls a multi-GB CUDA build).
HAS_CUDA := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo yes)
ifeq ($(HAS_CUDA),yes)
TORCH_SPEC ?= torch
else
TORCH_SPEC ?= torch==2.13.0
endif
STAMP := $(VENV)/.installed
TRAIN_ARGS ?=
TEST_ARGS ?=

.PHONY: install train test lint dist clean

install: $(STAMP)

# Reinstall whenever the packaging changes. The distribution is lightning-gan-lab (import name
# gan_lab, command gan-lab); an install made under its former name, gan-lab, is removed first.
$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip uninstall --quiet --yes gan-lab 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

train: $(STAMP)
	WANDB_MODE=$${WANDB_MODE:-offline} $(BIN)/gan-lab train $(TRAIN_ARGS)

test: $(STAMP)
	WANDB_MODE=offline $(BIN)/python -m pytest $(TEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check gan_lab tests benchmarks

# dist/: the wheel and the sdist (configs and data included), built offline from this checkout.
dist: $(STAMP)
	rm -rf build dist
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .
	$(BIN)/python -c "from setuptools import build_meta as b; b.build_sdist('dist')"
	rm -rf build *.egg-info

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache build dist *.egg-info
