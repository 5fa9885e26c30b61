"""TGAN: the temporal and image generators of Saito, Matsumoto & Saito 2017, "Temporal Generative
Adversarial Nets with Singular Value Clipping", arXiv:1611.06624.

Generator (paper §3 and Table; the authors' ``FrameSeedGenerator`` / ``VideoGenerator``):

* ``z0 ~ U[-1, 1]^100``;
* temporal generator ``G0``: ``z0`` as a length-1 sequence through 1-D transposed convolutions
  ``100 -> 512`` (kernel 1) then ``-> 256 -> 128 -> 128`` (kernel 4, stride 2, padding 1), and a
  last one to the frame latents ``z1_t`` (tanh), doubling the length each time: 16 latents of
  size 100 from 4 doublings; BatchNorm and ReLU on the hidden layers;
* image generator ``G1(z0, z1_t)``, applied to every frame: each code goes through a linear
  layer to ``256 x 4 x 4`` (BatchNorm, ReLU), the two maps are concatenated (``512 x 4 x 4``),
  then 2-D transposed convolutions ``512 -> 256 -> 128 -> 64 -> 32`` (kernel 4, stride 2,
  padding 1, BatchNorm, ReLU) and a last one to ``C`` channels (kernel 3, stride 1, padding 1,
  tanh): ``3 x 16 x 64 x 64`` at full size.

The critic is :class:`~gan_lab.nets.video.vgan.VGANDiscriminator` (four strided 3-D
convolutions 64-128-256-512, BatchNorm but on the first, LeakyReLU 0.2, a last convolution to one
output: the authors' ``VideoDiscriminator``), trained with the Wasserstein loss and singular value
clipping (:class:`~gan_lab.losses.SingularValueClipping`).

Widths scale with ``width`` (64 in the paper: ``512 = 8w``). ``T`` must be a power of two
(``log2 T`` doublings in ``G0``) and ``H = W = 4·2^n``.

Deviations: every weight ~ U[-0.01, 0.01] as in the authors' configurations (their
``init-uniform``), but the BatchNorm layers keep their shift (their ``no-beta`` variants drop it
in ``G0`` and in the critic).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gan_lab.nets.base import Generator
from gan_lab.nets.video.layers import (
    check_width,
    doublings,
    reject_labels,
    unfold_frames,
    uniform_init_,
    video_shape,
)

__all__ = ["TGANGenerator", "TemporalGenerator", "TGANImageGenerator"]

INIT_SCALE = 0.01  # the authors' configurations: chainer.initializers.Uniform(0.01)


class TemporalGenerator(nn.Module):
    """``G0``: ``z0 (B, latent_dim)`` -> frame latents ``(B, frame_latent_dim, T)`` in [-1, 1].

    Hidden channels ``8w, 4w, 2w, 2w, ...`` (``512, 256, 128, 128`` at ``w = 64``): halved at
    each doubling of the length, but never below ``2w``.
    """

    def __init__(self, latent_dim: int, frame_latent_dim: int, frames: int, width: int) -> None:
        super().__init__()
        steps = doublings(type(self).__name__, frames, base=1, what="number of frames")
        ch = 8 * width
        layers: list[nn.Module] = [
            nn.ConvTranspose1d(latent_dim, ch, 1, bias=False), nn.BatchNorm1d(ch), nn.ReLU()
        ]
        for i in range(1, steps):
            out = max(8 * width // 2**i, 2 * width)
            layers += [
                nn.ConvTranspose1d(ch, out, 4, 2, 1, bias=False), nn.BatchNorm1d(out), nn.ReLU()
            ]
            ch = out
        layers += [nn.ConvTranspose1d(ch, frame_latent_dim, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z0: Tensor) -> Tensor:
        return self.net(z0.unsqueeze(2))


class TGANImageGenerator(nn.Module):
    """``G1``: ``z0 (N, latent_dim)``, ``z1 (N, frame_latent_dim)`` -> frames ``(N, C, H, W)``."""

    def __init__(
        self, latent_dim: int, frame_latent_dim: int, channels: int, size: int, width: int
    ) -> None:
        super().__init__()
        steps = doublings(type(self).__name__, size)
        half = 4 * width  # each code becomes half of the 8w channels at 4x4
        self.slow = nn.Sequential(
            nn.Linear(latent_dim, half * 16, bias=False), nn.BatchNorm1d(half * 16), nn.ReLU()
        )
        self.fast = nn.Sequential(
            nn.Linear(frame_latent_dim, half * 16, bias=False), nn.BatchNorm1d(half * 16), nn.ReLU()
        )
        layers: list[nn.Module] = []
        ch = 2 * half
        for _ in range(steps):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch // 2),
                nn.ReLU(),
            ]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 3, 1, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z0: Tensor, z1: Tensor) -> Tensor:
        n = z0.shape[0]
        h = torch.cat([self.slow(z0).view(n, -1, 4, 4), self.fast(z1).view(n, -1, 4, 4)], dim=1)
        return self.net(h)


class TGANGenerator(Generator):
    """``z0 (B, latent_dim)`` -> clips ``(B, C, T, H, W)``: ``G1(z0, G0(z0)_t)`` for each ``t``.

    Args:
        data_shape: ``(C, T, H, W)``, ``T`` a power of two, ``H = W = 4·2^n``
            (paper: ``(3, 16, 64, 64)``).
        num_classes: must be 0 (the paper's model is unconditional).
        latent_dim: size of ``z0`` (100).
        frame_latent_dim: size of each ``z1_t`` (100).
        width: 64 in the paper (``G1`` starts at ``8w = 512`` channels).
        prior: ``"uniform"`` (the paper's U[-1, 1]) or ``"normal"``.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        latent_dim: int = 100,
        frame_latent_dim: int = 100,
        width: int = 64,
        prior: str = "uniform",
    ) -> None:
        super().__init__(latent_dim, prior)
        name = type(self).__name__
        reject_labels(name, num_classes)
        width = check_width(name, width)
        channels, frames, size, _ = video_shape(name, data_shape)
        self.data_shape = (channels, frames, size, size)
        self.temporal = TemporalGenerator(latent_dim, frame_latent_dim, frames, width)
        self.image = TGANImageGenerator(latent_dim, frame_latent_dim, channels, size, width)
        uniform_init_(self, INIT_SCALE)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """``z (B, latent_dim)`` -> ``(B, C, T, H, W)``."""
        b, frames = z.shape[0], self.data_shape[1]
        z1 = self.temporal(z).transpose(1, 2).reshape(b * frames, -1)  # (B·T, frame_latent_dim)
        z0 = z.repeat_interleave(frames, dim=0)
        return unfold_frames(self.image(z0, z1), b)
