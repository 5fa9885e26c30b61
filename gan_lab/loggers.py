"""Logger construction: Weights & Biases offline-first.

A W&B run is online only when the user has set W&B up (an API key in ``WANDB_API_KEY`` or
``~/.netrc``, or ``WANDB_MODE=online``) *and* the W&B server answers; otherwise it is written
offline under the run folder and can be uploaded later with
``wandb sync <run folder>/wandb/offline-run-*``. No network never blocks or fails a run.
"""

from __future__ import annotations

import logging
import netrc
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig, open_dict

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.wandb.ai"
PROBE_TIMEOUT_S = 3.0


def wandb_configured() -> bool:
    """Whether the user has set W&B up: an API key in the environment or in ``~/.netrc``."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", DEFAULT_BASE_URL)).hostname
    try:
        return netrc.netrc().authenticators(host or "api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def wandb_mode() -> str:
    """``WANDB_MODE`` when set (``dryrun`` read as ``offline``); else ``online`` for a
    configured W&B and ``offline`` otherwise."""
    mode = os.environ.get("WANDB_MODE") or ("online" if wandb_configured() else "offline")
    return "offline" if mode == "dryrun" else mode


def wandb_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the W&B server (``WANDB_BASE_URL``) opens within ``timeout``
    seconds: without it wandb would retry for minutes before giving up."""
    url = urlparse(os.environ.get("WANDB_BASE_URL", DEFAULT_BASE_URL))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def run_name(name: str, overrides: str | None = None) -> str:
    """A run name that says what differs: ``name`` plus the command-line overrides
    (Hydra's ``override_dirname``), e.g. ``gan_grid25[loss=hinge,seed=1]``."""
    return f"{name}[{overrides}]" if overrides else name


def wandb_logger(
    save_dir: str,
    project: str = "gan_lab",
    name: str | None = None,
    overrides: str | None = None,
    group: str | None = None,
    job_type: str = "train",
    tags: list[str] | None = None,
    id: str | None = None,
    entity: str | None = None,
) -> WandbLogger:
    """A Lightning ``WandbLogger`` that never blocks on the network.

    Args:
        save_dir: the run folder; W&B writes ``<save_dir>/wandb/``.
        name, overrides: the run name is :func:`run_name` of both.
        group: W&B group (the experiment name), so seeds and sweeps of one experiment sit
            together.
        job_type: ``train`` for single runs; sweeps set their own.
        tags: W&B tags (model, data, experiment...); empty and duplicate tags are dropped.
        id: the W&B run id (null: W&B picks one). ``gan-lab train`` fixes it before the run
            starts and a resumed training reuses it, so the W&B run continues.
    """
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    mode = wandb_mode()
    if mode == "online" and not wandb_reachable():
        log.warning(
            "W&B is configured but %s cannot be reached: logging offline to %s/wandb "
            "(upload later with `wandb sync`)",
            os.environ.get("WANDB_BASE_URL", DEFAULT_BASE_URL), save_dir,
        )
        mode = "offline"
    return WandbLogger(
        save_dir=save_dir,
        project=project,
        name=run_name(name, overrides) if name else None,
        group=group,
        job_type=job_type,
        tags=list(dict.fromkeys(t for t in (tags or []) if t)),
        id=id,
        entity=entity,
        offline=mode == "offline",
        mode=mode,
        resume="allow",
    )


def close_wandb() -> None:
    """Finish the W&B run, if any, so each job of a multirun gets its own run, and wait until
    its files are complete (``wandb.finish`` alone returns before an offline run's ``.wandb``
    file is flushed). A run that never imported wandb (no W&B logger) does not import it here."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.finish()
        wandb.teardown()


def fix_wandb_run_id(cfg: DictConfig, resumed: dict | None = None) -> None:
    """Set ``logger.wandb.id`` before the run starts (so ``config.yaml`` and every checkpoint
    record it): the id in ``resumed``, the stored config of the checkpoint a run resumes from,
    so the W&B run continues, else the one a ``wandb agent`` assigned (``WANDB_RUN_ID``), else a
    new one. An id given on the command line wins."""
    wandb_cfg = (cfg.get("logger") or {}).get("wandb")
    if not wandb_cfg or wandb_cfg.get("id"):
        return
    from wandb.sdk.lib.runid import generate_id

    run_id = (((resumed or {}).get("logger") or {}).get("wandb") or {}).get("id")
    with open_dict(cfg):
        cfg.logger.wandb.id = run_id or os.environ.get("WANDB_RUN_ID") or generate_id()


def prepare_wandb(loggers: list) -> None:
    """Plot W&B charts against gan_lab's ``iteration`` rather than Lightning's step."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.define_metric("iteration")
            logger.experiment.define_metric("*", step_metric="iteration", step_sync=True)


def summarize_wandb(loggers: list, metrics: dict[str, float]) -> None:
    """The final metrics (evaluation scores, last losses, iteration) as W&B summary values."""
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.summary.update(metrics)
