"""Stacked MNIST: three MNIST digits stacked as the channels of one colour image, 1,000 modes.

Che et al. 2017 ("Mode Regularized Generative Adversarial Networks", arXiv:1612.02136), used by
Metz et al. 2017 (Unrolled GAN), Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN,
arXiv:1712.04086, Tables 2–3). As in PacGAN's code (``stacked_MNIST_experiments``), each sample
takes three digits drawn uniformly with replacement, one per channel; its label is the mode
``100 d0 + 10 d1 + d2``; the training set is a fixed draw of 25,600 samples.

Deviations: digits come from gan_lab's MNIST split (``load_mnist(split, root)``: the 9,003
shipped training digits by default; PacGAN drew from all 70,000), and the draw is fixed by
``compose_seed`` (the run's ``seed`` only shuffles batches), so every run sees the same data set.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.data.image_folder import UInt8ImageDataset
from gan_lab.data.mnist import RESOLUTIONS, load_mnist, resize_uint8

NUM_MODES = 1000


def stack_digits(
    images: torch.Tensor, labels: torch.Tensor, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` stacked samples from uint8 digits ``(N, H, W)`` with labels ``(N,)``.

    Returns uint8 ``(n, 3, H, W)`` and mode labels ``(n,)`` = ``100 d0 + 10 d1 + d2``.
    """
    idx = torch.randint(len(images), (n, 3), generator=generator)
    stacked = images[idx]  # (n, 3, H, W)
    digits = labels[idx]
    return stacked, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]


class StackedMNISTDataModule(GANDataModule):
    """Stacked MNIST as ``(x (B, 3, R, R) in [-1, 1], y (B,) mode in [0, 1000))`` batches.

    Args:
        root: folder of the MNIST IDX files (``None``: the shipped digits).
        split: MNIST split the digits come from ("train", "val" or "all").
        num_samples: size of the fixed training set (25,600 in PacGAN).
        resolution: 28, 32 or 64 (digits resized once, bilinear and antialiased).
        compose_seed: seed of the draw of digits (fixed across runs).
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        num_samples: int = 25600,
        resolution: int = 28,
        compose_seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        if resolution not in RESOLUTIONS:
            raise ValueError(f"stacked_mnist resolution must be one of {RESOLUTIONS}, got "
                             f"{resolution}")
        if num_samples < 1:
            raise ValueError(f"stacked_mnist num_samples must be >= 1, got {num_samples}")
        self.root = root
        self.split = split
        self.num_samples = num_samples
        self.resolution = resolution
        self.compose_seed = compose_seed
        self.spec = DataSpec(shape=(3, resolution, resolution), num_classes=NUM_MODES)
        self.dataset: UInt8ImageDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is not None:
            return
        images, labels = load_mnist(self.split, self.root)
        images = resize_uint8(images[:, None], self.resolution)[:, 0]
        gen = torch.Generator().manual_seed(self.compose_seed)
        stacked, modes = stack_digits(images, labels, self.num_samples, gen)
        self.dataset = UInt8ImageDataset(stacked, modes)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        return self.training_loader(self.dataset, f"stacked_mnist has {len(self.dataset)} samples")
