"""Logger construction: Weights & Biases offline-first."""

from __future__ import annotations

import netrc
import os
from pathlib import Path

from lightning.pytorch.loggers import WandbLogger


def wandb_configured() -> bool:
    """Whether the user has set W&B up: an API key in the environment or in ``~/.netrc``."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def wandb_mode() -> str:
    """``WANDB_MODE`` when set; else ``online`` for a configured W&B and ``offline`` otherwise.

    Offline runs are written under the run folder and can be uploaded later with
    ``wandb sync <run folder>/wandb/offline-run-*``.
    """
    return os.environ.get("WANDB_MODE") or ("online" if wandb_configured() else "offline")


def wandb_logger(
    save_dir: str,
    project: str = "gan_lab",
    name: str | None = None,
    group: str | None = None,
    job_type: str = "train",
    tags: list[str] | None = None,
    id: str | None = None,
    entity: str | None = None,
) -> WandbLogger:
    """A Lightning ``WandbLogger`` that never blocks on the network when W&B isn't set up."""
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    mode = wandb_mode()
    return WandbLogger(
        save_dir=save_dir,
        project=project,
        name=name,
        group=group,
        job_type=job_type,
        tags=list(tags or []),
        id=id,
        entity=entity,
        offline=mode == "offline",
        mode=mode,
        resume="allow" if id else None,
    )
