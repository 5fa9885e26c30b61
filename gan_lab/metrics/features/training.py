"""``gan-lab train-features NAME``: train a domain feature network into the cache."""

from __future__ import annotations

from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig


def train_features(cfg: DictConfig) -> str:
    """Train ``cfg.features`` (a recipe with ``train()``, ``load(path)`` and
    ``cache_path(cache_dir)``) and save it to
    ``cfg.out`` or the cache; returns a summary: path, sha256 and held-out accuracy."""
    recipe = instantiate(cfg.features)
    out = Path(cfg.out).expanduser() if cfg.out else recipe.cache_path(cfg.cache_dir)
    if out.is_file() and not cfg.force:
        net, status = recipe.load(out), "already trained (force=true retrains)"
    else:
        net = recipe.train()
        net.save(out)
        status = f"trained in {net.meta.get('train_seconds')} s"
    accuracies = "".join(
        f"\n  held-out {k[4:].replace('_', ' ')}: {v:.4f}"
        for k, v in net.meta.items() if k.startswith("val_")
    )
    return f"{net.name}: {status}\n  file: {out}\n  weights sha256: {net.sha256}{accuracies}"
