"""``gan-lab train``: compose the config, build everything from it and fit."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_lab.app import CONF_DIR, main  # noqa: F401  (gan_lab.train.CONF_DIR, .main kept)
from gan_lab.build import build_module
from gan_lab.loggers import close_wandb, fix_wandb_run_id, prepare_wandb, summarize_wandb
from gan_lab.modules.base import DivergenceError

log = logging.getLogger(__name__)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """``torch.set_num_threads(n)`` inside the block (``None``: unchanged), restored after it."""
    before = torch.get_num_threads()
    if n is not None:
        if n < 1:
            raise ValueError(f"torch_threads must be >= 1 or null, got {n}")
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _instantiate_all(group: DictConfig | None) -> list:
    """Instantiate each entry of a callbacks/logger group (entries may be null to disable)."""
    if not group:
        return []
    return [instantiate(c, _convert_="all") for c in group.values() if c and "_target_" in c]


def train(cfg: DictConfig) -> dict[str, float]:
    """Train the configured model; returns the final logged metrics (floats).

    A run folder (``cfg.paths.output_dir``) receives ``config.yaml`` (the resolved config),
    ``checkpoints/last.ckpt`` and ``samples/``.
    """
    with torch_threads(cfg.get("torch_threads")):
        return _fit(cfg)


def _fit(cfg: DictConfig) -> dict[str, float]:
    out = Path(cfg.paths.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    fix_wandb_run_id(cfg)
    (out / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)
    torch.set_float32_matmul_precision(cfg.get("matmul_precision", "high"))

    datamodule = instantiate(cfg.data, _convert_="all")
    module = build_module(cfg, datamodule.spec)
    module.run_config = OmegaConf.to_container(cfg, resolve=True)
    callbacks = _instantiate_all(cfg.get("callbacks"))
    loggers = _instantiate_all(cfg.get("logger"))
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False, _convert_="all"
    )
    wandb_mode = os.environ.get("WANDB_MODE")  # Lightning's offline WandbLogger overwrites it
    try:
        prepare_wandb(loggers)
        for logger in loggers:
            logger.log_hyperparams(_flat(module.run_config))
        log.info("run folder: %s", out)
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("resume"))
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        metrics["iteration"] = float(module.iteration)
        summarize_wandb(loggers, metrics)
    except DivergenceError as err:
        last = out / "checkpoints" / "last.ckpt"
        kept = f"last good checkpoint: {last}" if last.exists() else "no checkpoint was written yet"
        raise DivergenceError(f"{err} ({kept})") from err
    finally:
        close_wandb()
        if wandb_mode is None:
            os.environ.pop("WANDB_MODE", None)
        else:
            os.environ["WANDB_MODE"] = wandb_mode
    return metrics


def _flat(d: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``, lists kept as values."""
    flat = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def run(cfg: DictConfig) -> float | None:
    """The task of ``gan-lab train`` (:func:`gan_lab.app.main`, the Hydra application): trains
    and returns ``cfg.optimized_metric`` for sweepers when it is set."""
    metrics = train(cfg)
    name = cfg.get("optimized_metric")
    if name is None:
        return None
    if name not in metrics:
        raise KeyError(f"optimized_metric '{name}' was not logged; logged: {sorted(metrics)}")
    return metrics[name]
