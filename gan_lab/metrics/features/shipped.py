"""The domain feature networks' weights that ship with gan_lab.

``mnistnet`` and ``mmnistnet`` were trained once, with their default recipes, by
``scripts/build_feature_weights.py``; their files lie in ``weights/`` beside this module with a
provenance record ``<name>.json`` (file and weights sha256, recipe, held-out accuracies, commit,
torch version, threads, time). Metrics load these files, so the same checkpoint gets the same
numbers on every machine; a network retrained with ``gan-lab train-features`` is used only when a
metric's ``feature.path`` points at it, and its cards then carry its own hash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gan_lab.metrics.features.base import file_sha256

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED = ("mnistnet", "mmnistnet")


def shipped_record(name: str) -> dict[str, Any]:
    """The provenance record of shipped network ``name`` (``weights/<name>.json``)."""
    if name not in SHIPPED:
        raise KeyError(f"no shipped weights for {name!r}; shipped: {list(SHIPPED)}")
    path = WEIGHTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: gan_lab's installation is incomplete; reinstall it (the file "
            f"ships with the package and is rebuilt by scripts/build_feature_weights.py {name})"
        )
    return json.loads(path.read_text())


def shipped_path(name: str) -> Path:
    """The shipped weights file of ``name``, checked against the sha256 of its record."""
    record = shipped_record(name)
    path = WEIGHTS_DIR / record["file"]
    if not path.is_file() or file_sha256(path) != record["file_sha256"]:
        raise ValueError(
            f"{path} is missing or does not match the sha256 {record['file_sha256'][:12]}… "
            f"recorded in {name}.json: reinstall gan_lab (or rebuild both files with "
            f"scripts/build_feature_weights.py {name})"
        )
    return path
