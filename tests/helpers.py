"""Composing and running small gan_lab configurations in tests."""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from torch.utils.data import DataLoader, TensorDataset

from gan_lab.data.base import DataSpec, GANDataModule
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


class RandomClipsDataModule(GANDataModule):
    """Random clips ``(B, C, T, H, W)`` in [-1, 1] with labels ``i % num_classes``: a stand-in
    video data set for tests of the training schemes (not of what they learn)."""

    def __init__(
        self,
        channels: int = 1,
        frames: int = 16,
        size: int = 32,
        num_classes: int = 0,
        length: int = 16,
        batch_size: int = 4,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.spec = DataSpec(shape=(channels, frames, size, size), num_classes=num_classes)
        g = torch.Generator().manual_seed(seed)
        self.clips = torch.rand(length, *self.spec.shape, generator=g) * 2 - 1
        self.labels = torch.arange(length) % max(num_classes, 1)

    def train_dataloader(self) -> DataLoader:
        dataset = TensorDataset(self.clips, self.labels)
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=True, drop_last=True)


class FixedSamples:
    """Stands in for a trained model in evaluators: ``sample()`` returns the given samples in
    order (e.g. real data, so metrics can be checked on a perfect generator)."""

    def __init__(self, samples, spec=None, iteration: int = 0) -> None:
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


def moving_mnist_fvd(feature, fake, cache_dir: Path, seed: int = 0):
    """``FVD(feature)`` of ``fake`` clips ``(n, 1, T>=16, 64, 64)`` against ``n`` real 20-frame
    Moving MNIST clips; returns the score and the real data module."""
    from gan_lab.data import MovingMNISTDataModule
    from gan_lab.metrics import FVD, EvalContext

    dm = MovingMNISTDataModule(frames=20, length=max(len(fake), 200), batch_size=8)
    ctx = EvalContext(module=FixedSamples(fake, iteration=7), datamodule=dm,
                      data_config={"frames": 20}, seed=seed, cache_dir=str(cache_dir),
                      batch_size=16)
    (score,) = FVD(feature, n_fake=len(fake), n_real=len(fake), frames=16)(ctx)
    return score, dm


def fvd_real_clips(dm, n: int, seed: int = 0):
    """The ``n`` real clips that :func:`moving_mnist_fvd` uses, written out independently: the
    first ``n`` of the seed's permutation, cut to 16 frames at offsets drawn per batch of 16
    from a generator seeded ``seed + 1``."""
    import torch

    dataset = dm.train_dataloader().dataset
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:n]
    real = torch.stack([dataset[int(i)][0] for i in order])
    gen = torch.Generator().manual_seed(seed + 1)
    cut = []
    for start in range(0, n, 16):
        batch = real[start : start + 16]
        starts = torch.randint(20 - 16 + 1, (len(batch),), generator=gen)
        cut += [c[:, s : s + 16] for c, s in zip(batch, starts.tolist(), strict=True)]
    return torch.stack(cut)


def frechet_by_scipy(a, b) -> float:
    """Fréchet distance of two feature sets ``(n, D)`` with numpy covariances and scipy's
    ``sqrtm`` (independent of gan_lab's metric code)."""
    import numpy as np
    import scipy.linalg

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2)
                 - 2 * np.trace(scipy.linalg.sqrtm(s1 @ s2).real))


class SignalAt(L.Callback):
    """Sends ``signum`` to its own process right after iteration ``iteration`` (after the
    callbacks before it in the list, such as the periodic checkpoint): a SIGKILL or a preemption
    notice arriving at a known point of a real ``gan-lab train`` process."""

    def __init__(self, iteration: int, signum: int) -> None:
        self.iteration, self.signum = iteration, signum

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if pl_module.iteration == self.iteration and pl_module.d_steps % pl_module.n_critic == 0:
            os.kill(os.getpid(), self.signum)


class DumpState(L.Callback):
    """Writes every process's final module state to ``<dirpath>/rank<r>.pt``."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    def on_train_end(self, trainer, pl_module):
        self.dirpath.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items()}
        torch.save(state, self.dirpath / f"rank{trainer.global_rank}.pt")
