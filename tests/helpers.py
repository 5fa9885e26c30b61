"""Composing and running small gan_lab configurations in tests."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from gan_lab.train import CONF_DIR

# Settings that keep a test run small and quiet; tests add their own overrides after these.
FAST = [
    "logger=csv",
    "callbacks.progress=null",
    "+trainer.enable_progress_bar=false",
    "trainer.accelerator=cpu",
    "iterations=2",
    "trainer.log_every_n_steps=1",
]

# Narrow nets, keyed by the net's generator class.
SMALL_NETS = {
    "DCGANGenerator": {"generator": {"width": 8}, "discriminator": {"width": 8}},
    "MLPGenerator": {"generator": {"hidden_dim": 16}, "discriminator": {"hidden_dim": 16}},
}


def compose_train(overrides: list[str], output_dir: Path, small: bool = True) -> DictConfig:
    """``conf/train.yaml`` composed as ``gan-lab train`` would, writing into ``output_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[*FAST, *overrides], return_hydra_config=True)
    HydraConfig().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        del cfg.hydra
        if small:
            target = cfg.net.generator._target_.rsplit(".", 1)[-1]
            for part, values in SMALL_NETS.get(target, {}).items():
                cfg.net[part].update(values)
    return cfg


class FixedSamples:
    """Stands in for a trained model in evaluators: ``sample()`` returns the given samples in
    order (e.g. real data, so metrics can be checked on a perfect generator)."""

    def __init__(self, samples, spec=None, iteration: int = 0) -> None:
        import torch

        self.samples, self.used = samples, 0
        self.spec = spec
        self.conditional, self.generator_ema, self.iteration = False, None, iteration
        self.device, self.training = torch.device("cpu"), False

    def sample(self, n, ema=True, seed=None, y=None, batch_size=256):
        out = self.samples[self.used : self.used + n]
        self.used += n
        return out

    def eval(self):
        return self

    def train(self, mode=True):
        return self
