"""``gan-lab train``: compose the config, build everything from it and fit.

A run writes into its own folder (``paths.output_dir``; two runs started in the same second get
distinct folders, and a folder that holds another run is refused). ``resume=<checkpoint>``
continues a run exactly: the checkpoint is read safely (``trust_checkpoint=true`` for a file
that needs unpickling), its stored experiment config must match the composed one
(``resume_allow_changes=true`` to fine-tune with other settings; the new checkpoints then record
the new config), and the data stream continues after the batches the run had used.
"""

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
from gan_lab.checkpoints import CheckpointError, changed_keys, read_checkpoint
from gan_lab.loggers import close_wandb, fix_wandb_run_id, prepare_wandb, summarize_wandb
from gan_lab.modules.base import DivergenceError
from gan_lab.text import flatten

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


class TrainingInterrupted(SystemExit):
    """Training stopped by a signal after writing its checkpoint; the exit status is
    ``128 + signal`` (143 for SIGTERM, 130 for SIGINT), as for a process killed by it."""

    def __init__(self, signum: int, iteration: int, checkpoint: Path) -> None:
        super().__init__(128 + signum)
        self.signum, self.iteration, self.checkpoint = signum, iteration, checkpoint


def check_values(cfg: DictConfig) -> None:
    """Values that a schema's types cannot check, named by their key."""
    if cfg.iterations < 1:
        raise ValueError(f"iterations must be >= 1 (G updates to train), got {cfg.iterations}")
    if cfg.get("torch_threads") is not None and cfg.torch_threads < 1:
        raise ValueError(f"torch_threads must be >= 1 or null, got {cfg.torch_threads}")


def prepare_run_folder(out: Path, resume: str | None) -> None:
    """Create ``out``, refusing one that holds another run's ``config.yaml`` (unless the run
    resumes from a checkpoint inside it)."""
    inside = resume is not None and Path(resume).expanduser().resolve().is_relative_to(
        out.resolve())
    if (out / "config.yaml").exists() and not inside:
        raise FileExistsError(
            f"the run folder {out} already holds a run (config.yaml): choose another "
            "hydra.run.dir, or resume=<that run>/checkpoints/last.ckpt to continue it"
        )
    out.mkdir(parents=True, exist_ok=True)


def read_resume(cfg: DictConfig) -> dict | None:
    """The checkpoint ``cfg.resume`` (read safely), after checking that its experiment is the
    composed one."""
    if not cfg.get("resume"):
        return None
    checkpoint = read_checkpoint(cfg.resume, trust=cfg.trust_checkpoint)
    stored = checkpoint["gan_lab"]["config"]
    changed = changed_keys(stored, OmegaConf.to_container(cfg, resolve=True))
    if changed and not cfg.resume_allow_changes:
        lines = "\n".join(f"  {k}: {a!r} in the checkpoint, {b!r} now"
                          for k, a, b in changed[:20])
        more = f"\n  ... and {len(changed) - 20} more" if len(changed) > 20 else ""
        raise CheckpointError(
            f"resume={cfg.resume} is a run of another experiment ({len(changed)} setting(s) "
            f"differ):\n{lines}{more}\nCompose the same experiment (e.g. the checkpoint run's "
            "model= and data=), or pass resume_allow_changes=true to continue it with these "
            "settings (fine-tuning; the new checkpoints record them)."
        )
    return checkpoint


def with_run_log(loggers: list, out: Path) -> list:
    """``loggers`` and gan_lab's own log of every run, ``<run>/csv/metrics.csv`` (what
    ``gan-lab compare`` reads, whatever else logs the run)."""
    from lightning.pytorch.loggers import CSVLogger

    if any(isinstance(lg, CSVLogger) and Path(lg.log_dir) == out / "csv" for lg in loggers):
        return loggers
    return [*loggers, CSVLogger(save_dir=str(out / "csv"), name="", version="")]


def build_run(cfg: DictConfig, d_steps: int = 0) -> tuple:
    """The data module and the module of ``cfg`` after seeding and the matmul precision, the
    data stream positioned after ``d_steps`` batches (a resumed run's)."""
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)
    torch.set_float32_matmul_precision(cfg.get("matmul_precision", "high"))
    datamodule = instantiate(cfg.data, _convert_="all")
    if d_steps:
        datamodule.resume_at(d_steps)
    return datamodule, build_module(cfg, datamodule.spec)


def _fit(cfg: DictConfig) -> dict[str, float]:
    check_values(cfg)
    out = Path(cfg.paths.output_dir)
    prepare_run_folder(out, cfg.get("resume"))
    resumed = read_resume(cfg)
    fix_wandb_run_id(cfg, resumed["gan_lab"]["config"] if resumed else None)
    (out / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    datamodule, module = build_run(cfg, resumed["gan_lab"]["d_steps"] if resumed else 0)
    module.run_config = OmegaConf.to_container(cfg, resolve=True)
    callbacks = _instantiate_all(cfg.get("callbacks"))
    loggers = with_run_log(_instantiate_all(cfg.get("logger")), out)
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False, _convert_="all"
    )
    wandb_mode = os.environ.get("WANDB_MODE")  # Lightning's offline WandbLogger overwrites it
    try:
        prepare_wandb(loggers)
        for logger in loggers:
            logger.log_hyperparams(flatten(module.run_config))
        log.info("run folder: %s", out)
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("resume"),
                    weights_only=not cfg.trust_checkpoint)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
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
    if module.stopped_by is not None:
        last = out / "checkpoints" / "last.ckpt"
        log.warning("interrupted at iteration %d: continue with resume=%s", module.iteration, last)
        raise TrainingInterrupted(module.stopped_by, module.iteration, last)
    return metrics


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
