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

.PHONY: install train test lint clean

install: $(STAMP)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

train: $(STAMP)
	WANDB_MODE=$${WANDB_MODE:-offline} $(BIN)/gan-lab train $(TRAIN_ARGS)

test: $(STAMP)
	WANDB_MODE=offline $(BIN)/python -m pytest $(TEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check gan_lab tests

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
