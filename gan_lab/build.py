"""Assemble a training module from a composed config, and rebuild one from a checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_lab.checkpoints import read_checkpoint
from gan_lab.data.base import DataSpec
from gan_lab.modules.base import GANModule


def build_module(cfg: DictConfig, spec: DataSpec) -> GANModule:
    """``cfg.model`` built with the nets of ``cfg.net``, ``cfg.loss``, ``cfg.regularizer`` and
    ``cfg.augment`` (DiffAugment of D's inputs; empty or missing: none).

    The keys of ``cfg.net`` are constructor arguments of the model's scheme (``generator`` and
    ``discriminator`` for :class:`~gan_lab.modules.image.ImageGAN`), so a misspelt key fails
    with its name.
    """
    make_module = instantiate(cfg.model, _partial_=True, _convert_="all")
    return make_module(
        **instantiate(cfg.net, _convert_="all"),
        spec=spec,
        loss=instantiate(cfg.loss),
        regularizer=instantiate(cfg.regularizer),
        augment=instantiate(cfg.augment) if cfg.get("augment") else None,
    )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu",
                    trust: bool = False) -> GANModule:
    """A module rebuilt from a gan_lab checkpoint (its stored config) with its weights loaded;
    the file is read safely (:func:`gan_lab.checkpoints.read_checkpoint`; ``trust`` allows a
    full unpickling of a file the user made)."""
    checkpoint = read_checkpoint(path, trust=trust, map_location=map_location)
    state = checkpoint["gan_lab"]
    cfg = OmegaConf.create(state["config"])
    module = build_module(cfg, DataSpec.from_dict(state["spec"]))
    module.load_state_dict(checkpoint["state_dict"])
    module.on_load_checkpoint(checkpoint)
    module.run_config = state["config"]
    return module.eval()
