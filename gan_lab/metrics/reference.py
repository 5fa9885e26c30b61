"""Real-data features cached on disk, so evaluation during training computes them once.

A cache entry is keyed by the data set (its config without loader settings), the feature
network (name, weights' sha256, resize) and the protocol (n_real, seed, clip settings), and
lives at ``<cache dir>/reference/<key hash>.pt`` with the key itself stored inside. Metrics
with the same key (FID and precision/recall on the same real samples) share an entry. Features
are stored in float64, as the metrics keep them; an older float32 entry is recomputed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gan_lab.files import atomic_save
from gan_lab.metrics.features.base import cache_dir

# Data settings that change how batches are served, not which samples exist.
LOADER_KEYS = {"batch_size", "num_workers"}


def data_key(data_config: Mapping[str, Any], streamed: bool) -> dict[str, Any]:
    """The part of a data config that identifies its samples: loader settings removed, and
    the seed too unless the data set is a seeded stream (its samples depend on it)."""
    drop = LOADER_KEYS | (set() if streamed else {"seed"})
    return {k: v for k, v in sorted(dict(data_config).items()) if k not in drop}


def reference_path(key: Mapping[str, Any], cache: str | None = None) -> Path:
    text = json.dumps(key, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return cache_dir(cache) / "reference" / f"{digest}.pt"


def load_reference(key: Mapping[str, Any], cache: str | None = None) -> Tensor | None:
    """Cached real features ``(N, D)`` (float64) for ``key``, or None."""
    path = reference_path(key, cache)
    if not path.is_file():
        return None
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if json.loads(blob["key"]) != json.loads(json.dumps(key, sort_keys=True, default=str)):
        return None  # a hash collision or a foreign file: recompute
    if blob["features"].dtype != torch.float64:
        return None  # float32, written before features were kept in float64: recompute
    return blob["features"]


def save_reference(key: Mapping[str, Any], features: Tensor, cache: str | None = None) -> Path:
    """Store real features ``(N, D)`` under ``key`` in float64 (atomically)."""
    path = reference_path(key, cache)
    text = json.dumps(key, sort_keys=True, default=str)
    atomic_save({"key": text, "features": features.detach().double().cpu()}, path)
    return path
