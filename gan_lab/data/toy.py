"""2D Gaussian-mixture toy data for mode-collapse experiments.

The ring of 8 and the grid of 25 Gaussians follow PacGAN (Lin, Khetan, Fanti and Oh, 2018,
arXiv:1712.04086; code: github.com/fjxmlzn/PacGAN, ``synthetic_data_experiments/*/config.py``),
which took them from VEEGAN (Srivastava et al., 2017, arXiv:1705.07761):

* ring: 8 modes at angles ``2*pi*k/8`` (k = 0..7) on the unit circle, sigma = 0.01;
* grid: 25 modes at ``{-4, -2, 0, 2, 4}^2``, sigma = 0.05;
* modes drawn uniformly; batch size 100 (PacGAN's configs).

Deviation: PacGAN trains on a fixed set of 100,000 samples for 400 epochs; here every batch is
a fresh draw from the mixture (an infinite stream), so there are no epochs.

Data are scaled into [-1, 1] for training: model space = data space / ``scale`` with
``scale = 1.25 * max |centre coordinate|`` (ring 1.25, grid 5.0), so
``spec.to_data_space(x)`` maps a batch (or generator output) back to the plane where
``centers`` and ``std`` live. ``scale=1`` trains on the plane itself, as PacGAN's code does (its
generator has a linear output).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from gan_lab.data.base import DataSpec, GANDataModule

SCALE_MARGIN = 1.25


class GaussianMixtureStream(IterableDataset):
    """Infinite stream of whole batches ``(x (B, 2) float32 in model space, y (B,) int64)``.

    Deterministic given ``seed``; each (rank, dataloader worker) pair gets its own stream, and
    batch ``b`` of the loader is the ``b // W``-th batch of worker ``b % W`` (the order in which
    a DataLoader reads ``W`` workers). ``start`` skips the first ``start`` batches (a resumed
    run) by drawing and discarding them.
    """

    def __init__(
        self,
        centers: torch.Tensor,
        std: float,
        scale: float,
        batch_size: int,
        seed: int,
        rank: int = 0,
        start: int = 0,
    ) -> None:
        super().__init__()
        self.start = start
        self.centers = centers
        self.std = std
        self.scale = scale
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        state = np.random.SeedSequence([self.seed, self.rank, worker]).generate_state(2)
        gen = torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
        for _ in range(max(0, (self.start - worker + workers - 1) // workers)):
            sample_mixture(self.centers, self.std, self.scale, self.batch_size, gen)
        while True:
            yield sample_mixture(self.centers, self.std, self.scale, self.batch_size, gen)


def sample_mixture(
    centers: torch.Tensor,
    std: float,
    scale: float,
    n: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points: modes uniform, isotropic Gaussian noise; returns model-space ``x``."""
    y = torch.randint(len(centers), (n,), generator=generator)
    noise = torch.randn(n, centers.shape[1], generator=generator)
    x = (centers[y] + std * noise) / scale
    return x.float(), y


class GaussianMixtureDataModule(GANDataModule):
    """Equal-weight mixture of isotropic 2D Gaussians, streamed as infinite batches.

    Attributes:
        centers: ``(K, 2)`` float32 tensor, the mode centres in data space.
        std: standard deviation of every mode, in data space.
        scale: data space = model space * ``scale`` (also ``spec.scale``).
        spec: ``DataSpec(shape=(2,), num_classes=K, scale=scale)``; ``y`` is the mode index.
    """

    def __init__(
        self,
        centers: Sequence[Sequence[float]],
        std: float,
        scale: float | None = None,
        batch_size: int = 100,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        c = torch.as_tensor(np.asarray(centers, dtype=np.float64), dtype=torch.float32)
        if c.ndim != 2 or c.shape[0] < 1:
            raise ValueError(f"centers must have shape (K, D), got {tuple(c.shape)}")
        if std <= 0:
            raise ValueError(f"std must be > 0, got {std}")
        if scale is None:
            scale = SCALE_MARGIN * float(c.abs().max())
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        self.centers = c
        self.std = float(std)
        self.scale = float(scale)
        self.spec = DataSpec(shape=(c.shape[1],), num_classes=c.shape[0], scale=self.scale)

    @property
    def num_modes(self) -> int:
        return len(self.centers)

    def sample(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fresh samples ``(x (n, 2) in model space, y (n,) mode index)``."""
        return sample_mixture(self.centers, self.std, self.scale, n, generator)

    def train_dataloader(self) -> DataLoader:
        stream = GaussianMixtureStream(
            self.centers, self.std, self.scale, self.batch_size, self.seed, self.process()[0],
            self.start_batch,
        )
        return DataLoader(stream, batch_size=None, num_workers=self.num_workers,
                          generator=torch.Generator().manual_seed(self.seed))


def ring_centers(n: int = 8, radius: float = 1.0) -> list[tuple[float, float]]:
    """``n`` points at angles ``2*pi*k/n``, k = 0..n-1 (no duplicated endpoint)."""
    return [
        (radius * math.cos(2 * math.pi * k / n), radius * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]


def grid_centers(values: Sequence[float] = (-4, -2, 0, 2, 4)) -> list[tuple[float, float]]:
    """The Cartesian grid ``values x values`` in PacGAN's order (first coordinate outer)."""
    return [(float(a), float(b)) for a, b in itertools.product(values, values)]


class Ring8DataModule(GaussianMixtureDataModule):
    """Ring of 8 Gaussians, radius 1, sigma 0.01 (PacGAN / VEEGAN); scale 1.25 by default."""

    def __init__(
        self,
        batch_size: int = 100,
        num_workers: int = 0,
        seed: int = 0,
        std: float = 0.01,
        scale: float | None = None,
    ) -> None:
        super().__init__(
            ring_centers(8, 1.0),
            std=std,
            scale=scale,
            batch_size=batch_size,
            num_workers=num_workers,
            seed=seed,
        )


class Grid25DataModule(GaussianMixtureDataModule):
    """Grid of 25 Gaussians at {-4, -2, 0, 2, 4}^2, sigma 0.05 (PacGAN / VEEGAN); scale 5 by
    default."""

    def __init__(
        self,
        batch_size: int = 100,
        num_workers: int = 0,
        seed: int = 0,
        std: float = 0.05,
        scale: float | None = None,
    ) -> None:
        super().__init__(
            grid_centers(),
            std=std,
            scale=scale,
            batch_size=batch_size,
            num_workers=num_workers,
            seed=seed,
        )
