"""The schema of ``gan-lab train``'s root config: every root key with its type.

Registered with Hydra's ConfigStore as ``train_schema`` and first in ``conf/train.yaml``'s
defaults, so a root key that the schema does not know, in any file (an experiment's
``iteratons: 5``) or override, fails composition with the key's name, and a value of the wrong
type (``seed=abc``) fails with its key. The groups (``model``, ``data``, ...) are free-form here:
their keys are checked by the constructors their ``_target_`` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class TrainConfig:
    """Root keys of ``conf/train.yaml`` (documented there)."""

    name: str = "run"
    seed: int | None = 0
    iterations: int = 1000
    resume: str | None = None
    resume_allow_changes: bool = False
    trust_checkpoint: bool = False
    optimized_metric: str | None = None
    matmul_precision: str = "high"
    d_norm: str = "batch"
    torch_threads: int | None = None
    model: Any = None
    net: Any = None
    loss: Any = None
    regularizer: Any = None
    augment: Any = None
    data: Any = None
    trainer: Any = None
    logger: Any = None
    callbacks: Any = None
    metrics: Any = None
    paths: Any = None


def register() -> None:
    """Make ``train_schema`` available to the defaults list of ``conf/train.yaml``."""
    ConfigStore.instance().store(name="train_schema", node=TrainConfig)
