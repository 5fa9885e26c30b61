"""``gan-lab train``: compose the config, build everything from it and fit."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hydra
import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig, OmegaConf, open_dict

from gan_lab.build import build_module
from gan_lab.modules.base import DivergenceError

log = logging.getLogger(__name__)

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


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


def _close_wandb() -> None:
    """Finish the W&B run, if any, so each job of a multirun gets its own run, and wait until
    its files are complete (``wandb.finish`` alone returns before an offline run's ``.wandb``
    file is flushed)."""
    import wandb

    if wandb.run is not None:
        wandb.finish()
        wandb.teardown()


def _fix_wandb_run_id(cfg: DictConfig) -> None:
    """Set ``logger.wandb.id`` before the run starts (so ``config.yaml`` and every checkpoint
    record it): the id stored in the checkpoint a run resumes from, so the W&B run continues,
    else the one a ``wandb agent`` assigned (``WANDB_RUN_ID``), else a new one. An id given on
    the command line wins."""
    wandb_cfg = (cfg.get("logger") or {}).get("wandb")
    if not wandb_cfg or wandb_cfg.get("id"):
        return
    from wandb.sdk.lib.runid import generate_id

    run_id = _stored_wandb_run_id(cfg.resume) if cfg.get("resume") else None
    with open_dict(cfg):
        cfg.logger.wandb.id = run_id or os.environ.get("WANDB_RUN_ID") or generate_id()


def _stored_wandb_run_id(checkpoint_path: str) -> str | None:
    """The W&B run id recorded in a gan_lab checkpoint's stored config, if any."""
    path = Path(checkpoint_path)
    if not path.is_file():
        raise FileNotFoundError(f"resume: checkpoint not found: {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    stored = (checkpoint.get("gan_lab") or {}).get("config") or {}
    return ((stored.get("logger") or {}).get("wandb") or {}).get("id")


def _prepare_wandb(loggers: list) -> None:
    """Plot W&B charts against gan_lab's ``iteration`` rather than Lightning's step."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.define_metric("iteration")
            logger.experiment.define_metric("*", step_metric="iteration", step_sync=True)


def _summarize_wandb(loggers: list, metrics: dict[str, float]) -> None:
    """The final metrics (evaluation scores, last losses, iteration) as W&B summary values."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.summary.update(metrics)


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
    _fix_wandb_run_id(cfg)
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
        _prepare_wandb(loggers)
        for logger in loggers:
            logger.log_hyperparams(_flat(module.run_config))
        log.info("run folder: %s", out)
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("resume"))
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        metrics["iteration"] = float(module.iteration)
        _summarize_wandb(loggers, metrics)
    except DivergenceError as err:
        last = out / "checkpoints" / "last.ckpt"
        kept = f"last good checkpoint: {last}" if last.exists() else "no checkpoint was written yet"
        raise DivergenceError(f"{err} ({kept})") from err
    finally:
        _close_wandb()
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


@hydra.main(config_path=CONF_DIR, config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns ``cfg.optimized_metric`` for sweepers when it is set."""
    metrics = train(cfg)
    name = cfg.get("optimized_metric")
    if name is None:
        return None
    if name not in metrics:
        raise KeyError(f"optimized_metric '{name}' was not logged; logged: {sorted(metrics)}")
    return metrics[name]
