"""The Dirac distribution at 0: the data of the Dirac-GAN (Mescheder, Geiger & Nowozin 2018,
"Which Training Methods for GANs do actually Converge?", arXiv:1801.04406, §2.2).

Every sample is the point ``x = 0`` in R^1, so a generator ``G_θ(z) = θ`` and a linear
discriminator ``D_ψ(x) = ψ·x`` (:mod:`gan_lab.nets.dirac`) form a two-parameter game whose only
equilibrium is ``(θ, ψ) = (0, 0)``: the smallest setting in which one can see whether a
training method converges.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, IterableDataset

from gan_lab.data.base import DataSpec, GANDataModule


class DiracStream(IterableDataset):
    """Infinite stream of batches ``(zeros (B, 1), zeros (B,) int64)``."""

    def __init__(self, batch_size: int) -> None:
        super().__init__()
        self.batch_size = batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            yield torch.zeros(self.batch_size, 1), torch.zeros(self.batch_size, dtype=torch.long)


class DiracDataModule(GANDataModule):
    """The point mass at 0 as batches of ``batch_size`` samples ``(B, 1)``; no classes."""

    def __init__(self, batch_size: int = 1, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.spec = DataSpec(shape=(1,), num_classes=0)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(DiracStream(self.batch_size), batch_size=None, num_workers=0,
                          generator=torch.Generator().manual_seed(self.seed))
