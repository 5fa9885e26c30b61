"""``gan-lab sample``: samples from a checkpoint to a file."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from gan_lab.build import load_checkpoint
from gan_lab.media import SAMPLE_FORMATS, write_samples


def sample(cfg: DictConfig) -> Path:
    """Write ``cfg.n`` samples of checkpoint ``cfg.ckpt`` to ``cfg.out``.

    The suffix of ``out`` picks the format (see :func:`gan_lab.media.write_samples`): ``.npy``
    holds raw samples in data space (``(N, C, T, H, W)`` for videos), ``.png`` a grid (a
    scatter plot for 2-D data, a filmstrip for videos), ``.gif`` / ``.mp4`` a grid of clips.
    A video prediction model continues the first clips of its data set's validation split.
    """
    if cfg.n < 1:
        raise ValueError(f"n must be >= 1 (the number of samples to write), got {cfg.n}")
    if cfg.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {cfg.batch_size}")
    if Path(cfg.out).suffix.lower() not in SAMPLE_FORMATS:
        raise ValueError(f"out={cfg.out}: the suffix picks the format, one of "
                         f"{sorted(SAMPLE_FORMATS)}")
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    module = load_checkpoint(cfg.ckpt, map_location=device, trust=cfg.trust_checkpoint).to(device)
    x = module.sample(cfg.n, ema=cfg.ema, seed=cfg.seed, batch_size=cfg.batch_size)
    return write_samples(x, module.spec, cfg.out, nrow=cfg.nrow)
