"""MoCoGAN: the motion/content generator and the image and video discriminators of Tulyakov,
Liu, Yang & Kautz 2018, "MoCoGAN: Decomposing Motion and Content for Video Generation",
arXiv:1707.04993 (layer plans from the authors' code, ``src/models.py``).

Generator: a clip is a sequence of latents ``[z_C, z_A, z_M^(t)]``, one per frame, each mapped to
a frame by the same DCGAN-style image generator ``G_I``:

* content ``z_C ~ N(0, I_50)``, the same for every frame of a clip;
* motion ``z_M^(t) = h_t``, the states of a GRU cell ``R_M`` (10 units) driven by per-frame noise
  ``ε_t ~ N(0, I_10)`` from an initial state ``h_0 ~ N(0, I_10)``;
* optional action code ``z_A``: the one-hot label (``num_classes > 0``), the same for every frame;
* ``G_I``: :class:`~gan_lab.nets.DCGANGenerator` (transposed convolutions ``8w, 4w, 2w, w -> C``,
  BatchNorm, ReLU, tanh): ``3 x 16 x 64 x 64`` clips at ``w = 64``.

The latent vector of :meth:`~gan_lab.nets.base.Generator.sample_latent` packs
``[z_C (50), h_0 (10), ε_1 ... ε_T (T·10)]``, all N(0, I), so the prior is owned by the net.

Discriminators:

* :class:`PatchImageDiscriminator` (``D_I``, the code's default ``PatchImageDiscriminator``):
  on single frames; convolutions ``C -> w -> 2w -> 4w`` (kernel 4, stride 2, padding 1, BatchNorm
  but on the first, LeakyReLU 0.2) and a last strided convolution to a map of patch logits
  (4x4 for 64x64 frames).
* :class:`MoCoGANVideoDiscriminator` (``D_V``, the code's ``VideoDiscriminator``): on clips;
  3-D convolutions ``C -> w -> 2w -> 4w -> 8w`` (kernel 4, stride ``(1, 2, 2)``, padding
  ``(0, 1, 1)``: each takes 3 frames off the clip and halves the frame size), and a last
  convolution over the rest (``(T - 12) x 4 x 4`` for 16x64x64) to one logit; ``patch=True`` is
  the code's ``PatchVideoDiscriminator`` (three layers, a last strided convolution to patches).

Both discriminators take the code's instance noise option: ``noise_sigma > 0`` adds Gaussian
noise of that standard deviation to the input of every convolution while training (the authors'
training command used ``--use_noise --noise_sigma 0.1``).

Deviations: with an action code, the discriminators are projection discriminators (Miyato &
Koyama 2018, arXiv:1802.05637) instead of the paper's categorical output of ``D_V``; ``G_I`` is
initialised ``N(0, 0.02)`` (DCGAN) rather than PyTorch's default; frame sizes ``H = W`` of 32 or
64 (the number of strided layers follows ``H``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.nets.base import Discriminator, Generator, require_labels
from gan_lab.nets.dcgan import DCGANGenerator
from gan_lab.nets.layers import LEAKY_SLOPE, ProjectionHead, as_data_shape, check_choice, make_norm
from gan_lab.nets.video.layers import check_width, doublings, unfold_frames, video_shape

__all__ = ["MoCoGANGenerator", "PatchImageDiscriminator", "MoCoGANVideoDiscriminator"]


class MoCoGANGenerator(Generator):
    """``z (B, latent_dim)`` [, ``y (B,)``] -> clips ``(B, C, T, H, W)`` in [-1, 1].

    Args:
        data_shape: ``(C, T, H, W)`` with ``H = W`` in 32, 64 (paper: ``(3, 16, 64, 64)``).
        num_classes: 0, or the number of actions (one-hot action code ``z_A``).
        content_dim: size of ``z_C`` (50).
        motion_dim: size of ``ε_t`` and of the GRU state ``z_M`` (10).
        width: channels of ``G_I``'s last hidden layer (64).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        content_dim: int = 50,
        motion_dim: int = 10,
        width: int = 64,
    ) -> None:
        name = type(self).__name__
        channels, frames, size, _ = video_shape(name, data_shape)
        if content_dim < 1 or motion_dim < 1:
            raise ValueError(f"{name}: content_dim and motion_dim must be >= 1")
        if num_classes < 0:
            raise ValueError(f"{name}: num_classes must be >= 0, got {num_classes}")
        super().__init__(content_dim + motion_dim * (frames + 1), prior="normal")
        self.data_shape = (channels, frames, size, size)
        self.num_classes = num_classes
        self.content_dim = content_dim
        self.motion_dim = motion_dim
        self.recurrent = nn.GRUCell(motion_dim, motion_dim)
        self.image = DCGANGenerator(
            data_shape=(channels, size, size),
            latent_dim=content_dim + num_classes + motion_dim,
            width=check_width(name, width),
        )

    def motion(self, z: Tensor) -> Tensor:
        """The motion codes ``z_M^(1..T)`` ``(B, T, motion_dim)`` of packed latents ``z``."""
        m, frames = self.motion_dim, self.data_shape[1]
        h = z[:, self.content_dim : self.content_dim + m]
        noise = z[:, self.content_dim + m :].reshape(z.shape[0], frames, m)
        states = []
        for t in range(frames):
            h = self.recurrent(noise[:, t], h)
            states.append(h)
        return torch.stack(states, dim=1)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """``z (B, latent_dim)``, ``y (B,)`` -> ``(B, C, T, H, W)``."""
        y = require_labels(self, self.num_classes, y)
        b, frames = z.shape[0], self.data_shape[1]
        codes = [z[:, : self.content_dim]]
        if y is not None:
            codes.append(F.one_hot(y, self.num_classes).to(z.dtype))
        per_clip = torch.cat(codes, dim=1).unsqueeze(1).expand(b, frames, -1)
        per_frame = torch.cat([per_clip, self.motion(z)], dim=2).reshape(b * frames, -1)
        return unfold_frames(self.image(per_frame), b)


class InstanceNoise(nn.Module):
    """Adds ``N(0, sigma²)`` noise to its input while training (identity in eval mode or for
    ``sigma = 0``): the ``Noise`` layer of the MoCoGAN code."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        if sigma < 0:
            raise ValueError(f"InstanceNoise: sigma must be >= 0, got {sigma}")
        self.sigma = float(sigma)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"


def _conv_block(
    conv: nn.Module, out_ch: int, norm: str, dims: int, noise_sigma: float
) -> nn.Sequential:
    """Instance noise -> conv -> norm -> LeakyReLU(0.2)."""
    return nn.Sequential(
        InstanceNoise(noise_sigma), conv, make_norm(norm, out_ch, dims), nn.LeakyReLU(LEAKY_SLOPE)
    )


class PatchImageDiscriminator(Discriminator):
    """MoCoGAN's ``D_I``: frames ``(B, C, H, W)`` -> patch logits ``(B, (H/16)·(W/16))``.

    Args:
        data_shape: ``(C, H, W)``, ``H = W`` a multiple of 16 (a frame: the view
            ``RandomFrames(k)`` of a clip).
        num_classes: 0, or the number of labels (projection term added to every patch).
        width: channels of the first layer (64); then ``2w, 4w``.
        norm: ``"batch"`` (paper), ``"layer"`` or ``"none"``.
        noise_sigma: instance noise before every convolution while training (0: none).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        width: int = 64,
        norm: str = "batch",
        noise_sigma: float = 0.0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        shape = as_data_shape(name, data_shape)
        if len(shape) != 3 or shape[1] != shape[2] or shape[1] % 16:
            raise ValueError(
                f"{name} judges square frames (C, H, W) with H = W a multiple of 16; got "
                f"data_shape={shape} (give it single frames: view RandomFrames)"
            )
        width = check_width(name, width)
        check_choice(name, "norm", norm, ("batch", "layer", "none"))
        c = shape[0]
        bias = norm == "none"
        self.num_classes = num_classes
        self.blocks = nn.Sequential(
            _conv_block(nn.Conv2d(c, width, 4, 2, 1, bias=False), width, "none", 2, noise_sigma),
            _conv_block(
                nn.Conv2d(width, 2 * width, 4, 2, 1, bias=bias), 2 * width, norm, 2, noise_sigma
            ),
            _conv_block(
                nn.Conv2d(2 * width, 4 * width, 4, 2, 1, bias=bias), 4 * width, norm, 2,
                noise_sigma,
            ),
        )
        self.out = nn.Sequential(
            InstanceNoise(noise_sigma), nn.Conv2d(4 * width, 1, 4, 2, 1, bias=False)
        )
        self.projection = (
            ProjectionHead(4 * width, num_classes, linear=False) if num_classes else None
        )

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``x (B, C, H, W)`` -> patch logits ``(B, P)``."""
        y = require_labels(self, self.num_classes, y)
        h = self.blocks(x)
        logits = self.out(h).flatten(1)
        if self.projection is not None:
            logits = logits + self.projection(h.sum(dim=(2, 3)), y).unsqueeze(1)
        return logits


class MoCoGANVideoDiscriminator(Discriminator):
    """MoCoGAN's ``D_V``: clips ``(B, C, T, H, W)`` -> logits ``(B,)`` (``(B, P)`` if ``patch``).

    Args:
        data_shape: ``(C, T, H, W)``, ``H = W = 4·2^n``; ``T >= 3n + 1`` (``T >= 13`` for
            64x64 frames; paper: 16 frames).
        num_classes: 0, or the number of labels (projection discriminator).
        width: channels of the first layer (64); then ``2w, 4w, 8w``.
        norm: ``"batch"`` (paper), ``"layer"`` or ``"none"``.
        patch: the code's ``PatchVideoDiscriminator`` (patch logits) instead.
        noise_sigma: instance noise before every strided convolution while training (0: none).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        width: int = 64,
        norm: str = "batch",
        patch: bool = False,
        noise_sigma: float = 0.0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        channels, frames, size, _ = video_shape(name, data_shape)
        n = doublings(name, size)
        layers = n - 1 if patch else n
        if frames - 3 * layers < (4 if patch else 1):
            raise ValueError(
                f"{name}: {layers} layers take 3 frames each; clips of {frames} frames are too "
                f"short for {size}x{size} frames (data_shape={tuple(data_shape)})"
            )
        width = check_width(name, width)
        check_choice(name, "norm", norm, ("batch", "layer", "none"))
        self.num_classes = num_classes
        self.patch = patch
        stride, pad = (1, 2, 2), (0, 1, 1)
        first = nn.Conv3d(channels, width, 4, stride, pad, bias=False)
        blocks: list[nn.Module] = [_conv_block(first, width, "none", 3, noise_sigma)]
        ch = width
        for _ in range(layers - 1):
            conv = nn.Conv3d(ch, 2 * ch, 4, stride, pad, bias=norm == "none")
            blocks.append(_conv_block(conv, 2 * ch, norm, 3, noise_sigma))
            ch *= 2
        self.blocks = nn.Sequential(*blocks)
        if patch:
            self.out = nn.Conv3d(ch, 1, 4, stride, pad, bias=False)
        else:
            self.out = nn.Conv3d(ch, 1, (frames - 3 * layers, 4, 4), bias=False)
        self.projection = ProjectionHead(ch, num_classes, linear=False) if num_classes else None

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``x (B, C, T, H, W)`` -> logits ``(B,)`` or patch logits ``(B, P)``."""
        y = require_labels(self, self.num_classes, y)
        h = self.blocks(x)
        logits = self.out(h).flatten(1)
        if self.projection is not None:
            logits = logits + self.projection(h.sum(dim=(2, 3, 4)), y).unsqueeze(1)
        return logits if self.patch else logits.view(x.shape[0])
