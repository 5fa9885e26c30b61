"""``gan-lab sample``: samples from a checkpoint to a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_lab.build import load_checkpoint
from gan_lab.media import write_samples
from gan_lab.modules.base import GANModule
from gan_lab.modules.prediction import VideoPredictionGAN


def context_clips(data_cfg: Mapping, n: int, split: str = "val") -> torch.Tensor:
    """The first ``n`` clips ``(n, C, T, H, W)`` of the data set of a run's ``data`` config.

    A data module with a ``split`` option (Moving MNIST, MNIST) is rebuilt on ``split`` (the
    validation split by default: digits the model never trained on); one without (a folder of
    videos) gives clips of its one data set. Generated data sets give the same clips every
    time (their stream is a function of the seed and the clip index).
    """
    cfg = OmegaConf.create(dict(data_cfg))
    if "split" in cfg:
        cfg.split = split
    if "num_workers" in cfg:
        cfg.num_workers = 0
    datamodule = instantiate(cfg, _convert_="all")
    datamodule.setup("fit")
    clips, total = [], 0
    for x, _ in datamodule.train_dataloader():
        clips.append(x)
        total += len(x)
        if total >= n:
            return torch.cat(clips)[:n]
    raise ValueError(f"the data set ({cfg.get('_target_')}) has {total} clips, fewer than n={n}")


def sampling_inputs(module: GANModule, n: int) -> dict[str, torch.Tensor]:
    """What ``module.sample(n, ...)`` needs besides latents: nothing for unconditional GANs;
    ``context`` clips (validation split of the run's data) for a video prediction model."""
    if not isinstance(module, VideoPredictionGAN):
        return {}
    if not module.run_config or "data" not in module.run_config:
        raise ValueError(
            "this prediction model has no stored data config to take context clips from"
        )
    return {"context": context_clips(module.run_config["data"], n)}


def sample(cfg: DictConfig) -> Path:
    """Write ``cfg.n`` samples of checkpoint ``cfg.ckpt`` to ``cfg.out``.

    The suffix of ``out`` picks the format (see :func:`gan_lab.media.write_samples`): ``.npy``
    holds raw samples in data space (``(N, C, T, H, W)`` for videos), ``.png`` a grid (a
    scatter plot for 2-D data, a filmstrip for videos), ``.gif`` / ``.mp4`` a grid of clips.
    A video prediction model continues the first clips of its data set's validation split
    (:func:`context_clips`).
    """
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    module = load_checkpoint(cfg.ckpt, map_location=device, trust=cfg.trust_checkpoint).to(device)
    x = module.sample(
        cfg.n, ema=cfg.ema, seed=cfg.seed, batch_size=cfg.batch_size,
        **sampling_inputs(module, cfg.n),
    )
    return write_samples(x, module.spec, cfg.out, nrow=cfg.nrow)
