"""DCGAN generator and discriminator (Radford, Metz & Chintala 2015, arXiv:1511.06434).

Architecture guidelines of the paper (§3), all kept: strided (transposed) convolutions and no
pooling; no fully connected hidden layers (G's first layer is a transposed conv applied to z as a
``1x1`` image, D's last layer a conv down to ``1x1``); BatchNorm in G on every layer but the
output, in D on every layer but the input; ReLU and a tanh output in G; LeakyReLU(0.2) in D;
weights ~ N(0, 0.02).

Layer plans (``w`` = ``width``; every up/down step is kernel 4, stride 2, padding 1):

========  =====================================================  ===========================
 size      G: spatial size [channels]                             first G / last D layer
========  =====================================================  ===========================
 64        1 -> 4 [8w] -> 8 [4w] -> 16 [2w] -> 32 [w] -> 64 [C]    kernel 4, stride 1, pad 0
 32        1 -> 4 [4w] -> 8 [2w] -> 16 [w] -> 32 [C]               kernel 4, stride 1, pad 0
 28        1 -> 7 [2w] -> 14 [w] -> 28 [C]                         kernel 7, stride 1, pad 0
========  =====================================================  ===========================

D mirrors G (e.g. 28: 28 [C] -> 14 [w] -> 7 [2w] -> conv 7x7 -> 1). For MNIST-sized 28x28
the ``1 -> 7`` projection (kernel 7) followed by two ``x2`` steps lands exactly on 28
(``(7 - 1) * 2 - 2 + 4 = 14``, ``(14 - 1) * 2 - 2 + 4 = 28``), with the 7x7x128 -> 14x14x64
channels of InfoGAN's MNIST net at ``width=64``.

Deviations and extensions:
    * z ~ N(0, I) by default (the paper used U[-1, 1]: ``prior="uniform"``).
    * D's ``norm`` may be ``"layer"`` (GroupNorm(1, C): layer norm over (C, H, W) with a per-channel
      affine, as WGAN-GP requires), ``"group"`` or ``"none"`` instead of the paper's BatchNorm.
    * Layers not followed by a norm keep a bias (zero-initialised); the others have none.
    * Class-conditional (``num_classes > 0``): G concatenates a learned label embedding to z;
      D is a projection discriminator (Miyato & Koyama 2018, arXiv:1802.05637) whose ``ψ`` is the
      final DCGAN conv and whose ``φ(x)`` is the last feature map, sum-pooled over space:
      ``logit = conv(h) + ⟨embed(y), Σ_hw h⟩``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gan_lab.nets.base import Discriminator, Generator, require_labels
from gan_lab.nets.layers import (
    LEAKY_SLOPE,
    ProjectionHead,
    as_data_shape,
    check_choice,
    dcgan_init_,
    make_norm,
)

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "DCGAN_RESOLUTIONS"]

# resolution -> spatial size right after G's first layer / before D's last layer
DCGAN_RESOLUTIONS: dict[int, int] = {28: 7, 32: 4, 64: 4}


def _plan(owner: str, data_shape: Sequence[int], width: int) -> tuple[int, int, int, int]:
    """Check ``data_shape`` and return ``(channels, resolution, base_size, n_steps)``."""
    shape = as_data_shape(owner, data_shape)
    supported = tuple(DCGAN_RESOLUTIONS)
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in DCGAN_RESOLUTIONS:
        raise ValueError(
            f"{owner} supports square images (C, H, W) with H = W in {supported} and any C; "
            f"got data_shape={shape}"
            + (" (vector data: use MLPGenerator / MLPDiscriminator)" if len(shape) == 1 else "")
        )
    if width < 1:
        raise ValueError(f"{owner}: width must be >= 1, got {width}")
    channels, res = shape[0], shape[1]
    base = DCGAN_RESOLUTIONS[res]
    n_steps = (res // base).bit_length() - 1  # number of x2 steps: 64 -> 4, 32 -> 3, 28 -> 2
    return channels, res, base, n_steps


class DCGANGenerator(Generator):
    """DCGAN generator: ``z (B, latent_dim)`` [+ ``embed(y)``] -> ``(B, C, H, W)`` in [-1, 1].

    ``blocks[0]`` projects z (a ``1x1`` image) to ``base x base``; each later block doubles the
    size; the last block is ConvTranspose -> tanh, without norm.

    Args:
        data_shape: ``(C, H, W)`` with ``H = W`` in 28, 32, 64; any C.
        num_classes: 0 for unconditional, else the number of labels.
        latent_dim: size of z (100 in the paper).
        width: channels of the last hidden layer; earlier layers double it (64 in the paper).
        norm: ``"batch"`` (paper), ``"layer"``, ``"group"`` or ``"none"``, on hidden layers.
        embed_dim: size of the label embedding concatenated to z (conditional only).
        prior: ``"normal"`` or ``"uniform"`` (the paper's U[-1, 1]).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        latent_dim: int = 100,
        width: int = 64,
        norm: str = "batch",
        embed_dim: int = 32,
        prior: str = "normal",
    ) -> None:
        super().__init__(latent_dim, prior)
        name = type(self).__name__
        channels, res, base, n_steps = _plan(name, data_shape, width)
        check_choice(name, "norm", norm, ("batch", "layer", "group", "none"))
        if num_classes < 0:
            raise ValueError(f"{name}: num_classes must be >= 0, got {num_classes}")
        self.data_shape = (channels, res, res)
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes > 0 else None
        in_ch = latent_dim + (embed_dim if num_classes > 0 else 0)
        out_ch = width * 2 ** (n_steps - 1)
        blocks = [self._block(in_ch, out_ch, base, 1, 0, norm)]
        for _ in range(n_steps - 1):
            blocks.append(self._block(out_ch, out_ch // 2, 4, 2, 1, norm))
            out_ch //= 2
        blocks.append(nn.Sequential(nn.ConvTranspose2d(out_ch, channels, 4, 2, 1), nn.Tanh()))
        self.blocks = nn.Sequential(*blocks)
        dcgan_init_(self)

    @staticmethod
    def _block(in_ch: int, out_ch: int, k: int, s: int, p: int, norm: str) -> nn.Sequential:
        return nn.Sequential(
            nn.ConvTranspose2d(in_ch, out_ch, k, s, p, bias=norm == "none"),
            make_norm(norm, out_ch, 2),
            nn.ReLU(),
        )

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """``z (B, latent_dim)``, ``y (B,)`` -> ``(B, C, H, W)``."""
        y = require_labels(self, self.num_classes, y)
        if self.embed is not None:
            z = torch.cat([z, self.embed(y).to(z.dtype)], dim=1)
        return self.blocks(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(Discriminator):
    """DCGAN discriminator: images ``(B, C, H, W)`` [, ``y (B,)``] -> logits ``(B,)``.

    ``blocks[0]`` is conv -> LeakyReLU without norm; each later block is conv -> norm ->
    LeakyReLU, halving the size down to ``base x base``; ``out`` is a conv to ``1x1``.

    Args:
        data_shape: ``(C, H, W)`` with ``H = W`` in 28, 32, 64; any C.
        num_classes: 0 for unconditional, else the number of labels (projection head).
        width: channels of the first layer; later layers double it (64 in the paper).
        norm: ``"batch"`` (paper), ``"layer"`` (for WGAN-GP / R1), ``"group"`` or ``"none"``.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        width: int = 64,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        channels, res, base, n_steps = _plan(name, data_shape, width)
        check_choice(name, "norm", norm, ("batch", "layer", "group", "none"))
        if num_classes < 0:
            raise ValueError(f"{name}: num_classes must be >= 0, got {num_classes}")
        self.data_shape = (channels, res, res)
        self.num_classes = num_classes
        blocks = [nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(LEAKY_SLOPE))]
        ch = width
        for _ in range(n_steps - 1):
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none"),
                    make_norm(norm, ch * 2, 2),
                    nn.LeakyReLU(LEAKY_SLOPE),
                )
            )
            ch *= 2
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Conv2d(ch, 1, base, 1, 0)
        self.projection = ProjectionHead(ch, num_classes, linear=False) if num_classes else None
        self.feature_dim = ch
        dcgan_init_(self)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``x (B, C, H, W)``, ``y (B,)`` -> logits ``(B,)``."""
        y = require_labels(self, self.num_classes, y)
        h = self.blocks(x)
        logits = self.out(h).view(x.shape[0])
        if self.projection is not None:
            logits = logits + self.projection(h.sum(dim=(2, 3)), y)
        return logits
