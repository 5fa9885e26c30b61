"""Reading gan_lab checkpoints safely, checking a resume against the composed config, and the
random-number state a checkpoint carries so that a resumed run continues bit for bit.

**Checkpoints are data, configs are code.** A checkpoint is read with
``torch.load(weights_only=True)``: only tensors, numbers, strings, lists and dicts, which is all
gan_lab writes. A file that needs Python's full unpickling (which can run any code the file
names) is refused unless the user passes ``trust_checkpoint=true`` for a file they made. A config,
in contrast, instantiates the classes its ``_target_`` names: only run configs you trust.
"""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_lab.text import flatten

__all__ = [
    "CheckpointError",
    "changed_keys",
    "preserved_rng",
    "read_checkpoint",
    "restore_rng_state",
    "rng_state",
]

# The parts of a run config that define the experiment: resuming with any of them changed is
# refused unless the user allows it (``resume_allow_changes=true``). Where and how a run is
# logged, its length and its device settings may change.
EXPERIMENT_KEYS = ("model", "net", "loss", "regularizer", "augment", "data", "seed", "d_norm")
MAY_CHANGE = {"model.max_iterations", "data.num_workers"}


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


#: Stands for a key that one of two configs does not have.
ABSENT = _Absent()


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, unsafe, foreign or of another run."""


def read_checkpoint(path: str | Path, trust: bool = False,
                    map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The contents of gan_lab checkpoint ``path``, read with ``weights_only=True`` unless
    ``trust``; every failure is a :class:`CheckpointError` (or ``FileNotFoundError``) that names
    the file and says what to do."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.is_dir():
        inside = sorted(str(p) for p in path.glob("**/*.ckpt"))[:3]
        hint = f"; it holds {', '.join(inside)}" if inside else ""
        raise CheckpointError(f"checkpoint {path} is a folder, not a file: give the .ckpt file, "
                              f"e.g. <run>/checkpoints/last.ckpt{hint}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes): an interrupted copy or "
                              "write; use another checkpoint of the run")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=not trust)
    except pickle.UnpicklingError as err:
        if "global" in str(err).lower():  # it names a class or function to import: code
            raise CheckpointError(
                f"{path} holds Python objects that only a full unpickling can read, and "
                "unpickling runs code named in the file, so it was refused (gan_lab's own "
                "checkpoints hold only tensors, numbers, strings, lists and dicts). If you made "
                "this file yourself and trust it, pass trust_checkpoint=true."
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint ({err})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise CheckpointError(
            f"{path} is not a readable checkpoint: truncated or corrupt ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:200]}); use another checkpoint of the run"
        ) from None
    if not isinstance(checkpoint, dict) or not (checkpoint.get("gan_lab") or {}).get("config"):
        raise CheckpointError(f"{path} is not a gan_lab checkpoint (no stored run configuration)")
    return checkpoint


def changed_keys(stored: Mapping, composed: Mapping) -> list[tuple[str, Any, Any]]:
    """``(key, stored value, composed value)`` for every experiment key that differs between a
    checkpoint's stored config and the composed one (flat keys, sorted; :data:`ABSENT` where a
    config lacks the key)."""
    def experiment(cfg: Mapping) -> dict[str, Any]:
        return {k: v for k, v in flatten({k: cfg.get(k) for k in EXPERIMENT_KEYS}).items()
                if k not in MAY_CHANGE}

    a, b = experiment(stored), experiment(composed)
    return [(k, a.get(k, ABSENT), b.get(k, ABSENT)) for k in sorted(set(a) | set(b))
            if a.get(k, ABSENT) != b.get(k, ABSENT)]


def rng_state() -> dict[str, Any]:
    """This process's random-number state: torch (CPU and every CUDA device), numpy, Python."""
    np_state = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"key": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Set the state :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))


@contextmanager
def preserved_rng() -> Iterator[None]:
    """The random state after the block is what it was before: sampling and evaluation during
    training never shift the training's random stream (so a resumed run, which does not repeat
    them, continues it exactly)."""
    state = rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)
