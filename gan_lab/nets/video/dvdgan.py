"""DVD-GAN at small scale: after Clark, Donahue & Simonyan 2019, "Adversarial Video Generation on
Complex Datasets", arXiv:1907.06571 (the "Dual Video Discriminator" GAN).

Generator (paper §3.1, Fig. 1): ``[z; e(y)]`` (``z ~ N(0, I)``, ``e`` a learned class
embedding) is mapped by a linear layer to a ``8w x 4 x 4`` tensor, the input of a convolutional
GRU unrolled once per frame. Each GRU output goes, with time folded into the batch, through two
BigGAN residual blocks (the first keeps the size, the second upsamples 2x); the result is the
per-frame input of the next ConvGRU, and so on until the frames have the data's size (channels
``8w -> 4w -> 2w -> w``). Every BatchNorm of the blocks is class-conditional in BigGAN's way:
gain and bias are linear functions of ``[z; e(y)]``. A last BatchNorm, ReLU, 3x3 convolution and
tanh give the frames. G is spectrally normalized (``spectral_norm=True``), as in BigGAN.

Discriminators (hinge loss; spectral normalization comes from ``regularizer=spectral_norm``):

* :class:`DVDGANSpatialDiscriminator` ``D_S``: a BigGAN discriminator (residual blocks with
  average-pool downsampling ``w -> 2w -> 4w -> 8w`` to 4x4, one more block, ReLU, sum pooling,
  a linear output and a projection term for the class) applied to each of ``k`` full-resolution
  frames; the clip's score is the sum of its frames' scores. Use it with the view
  ``RandomFrames(k=8, flatten=false)``.
* :class:`DVDGANTemporalDiscriminator` ``D_T``: the same design on the whole clip after 2x
  spatial average pooling (the view ``SpatialDownsample(2)``), whose first two residual blocks
  are 3-D (3x3x3 convolutions, 2x2x2 average pooling); the later blocks are 2-D with time folded
  into the batch, and the output sums over time and space before the linear layer.

Small-scale deviations: widths (``w`` = 64 gives ``8w = 512`` channels at 4x4; the paper's
``ch = 128`` and 8 or more channel multipliers at 128x128 and 256x256) and one residual pair
per resolution; a ConvGRU of 3x3 convolutions with a zero initial state; orthogonal
initialisation as in BigGAN; no self-attention; the temporal discriminator pools time as well
in its 3-D blocks (``T`` must be a multiple of 4).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.nets.base import Discriminator, Generator, require_labels
from gan_lab.nets.layers import ProjectionHead, apply_spectral_norm, as_data_shape
from gan_lab.nets.video.layers import check_width, doublings, unfold_frames, video_shape

__all__ = [
    "ConvGRUCell",
    "DVDGANGenerator",
    "DVDGANSpatialDiscriminator",
    "DVDGANTemporalDiscriminator",
]


def _orthogonal_init_(module: nn.Module) -> nn.Module:
    """BigGAN's initialisation: orthogonal weights for convolutions and linear layers."""
    for m in module.modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            nn.init.orthogonal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain ``1 + γ(c)`` and bias ``β(c)`` are linear in a condition ``c``.

    Shapes: ``x (N, F, H, W)``, ``c (N, cond_dim)`` -> ``(N, F, H, W)``.
    """

    def __init__(self, num_features: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Linear(cond_dim, num_features, bias=False)
        self.bias = nn.Linear(cond_dim, num_features, bias=False)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        gain = 1 + self.gain(c)[:, :, None, None]
        return self.norm(x) * gain + self.bias(c)[:, :, None, None]


class GeneratorBlock(nn.Module):
    """BigGAN G block: ``CBN -> ReLU -> [up 2x] -> conv3 -> CBN -> ReLU -> conv3`` plus a
    (1x1-projected, upsampled) shortcut. ``(N, in, H, W)`` -> ``(N, out, H', W')``."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int, upsample: bool) -> None:
        super().__init__()
        self.upsample = upsample
        self.bn1 = ConditionalBatchNorm2d(in_ch, cond_dim)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, 1, 1)
        self.bn2 = ConditionalBatchNorm2d(out_ch, cond_dim)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def _up(self, x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        h = self.conv1(self._up(F.relu(self.bn1(x, c))))
        h = self.conv2(F.relu(self.bn2(h, c)))
        return h + self.shortcut(self._up(x))


class ConvGRUCell(nn.Module):
    """Convolutional GRU cell (3x3 convolutions): ``x (N, in, H, W)``, ``h (N, hid, H, W)``
    -> the next state ``(N, hid, H, W)``."""

    def __init__(self, in_ch: int, hidden_ch: int) -> None:
        super().__init__()
        self.gates = nn.Conv2d(in_ch + hidden_ch, 2 * hidden_ch, 3, 1, 1)
        self.candidate = nn.Conv2d(in_ch + hidden_ch, hidden_ch, 3, 1, 1)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        reset, update = torch.sigmoid(self.gates(torch.cat([x, h], dim=1))).chunk(2, dim=1)
        candidate = torch.tanh(self.candidate(torch.cat([x, reset * h], dim=1)))
        return (1 - update) * h + update * candidate


class DVDGANGenerator(Generator):
    """Recurrent generator: ``z (B, latent_dim)`` [, ``y``] -> clips ``(B, C, T, H, W)``.

    Args:
        data_shape: ``(C, T, H, W)``, ``H = W = 4·2^n``.
        num_classes: 0, or the number of classes (class embedding ``e(y)``).
        latent_dim: size of z (120 in the paper).
        width: ``w``; the channels are ``8w`` at 4x4, halved at each doubling of the size.
        embed_dim: size of ``e(y)`` (120 in the paper; conditional only).
        spectral_norm: spectrally normalize every convolution and linear layer (BigGAN).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        latent_dim: int = 120,
        width: int = 64,
        embed_dim: int = 120,
        spectral_norm: bool = True,
    ) -> None:
        super().__init__(latent_dim, prior="normal")
        name = type(self).__name__
        channels, frames, size, _ = video_shape(name, data_shape)
        n = doublings(name, size)
        width = check_width(name, width)
        if num_classes < 0:
            raise ValueError(f"{name}: num_classes must be >= 0, got {num_classes}")
        self.data_shape = (channels, frames, size, size)
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        cond_dim = latent_dim + (embed_dim if num_classes else 0)
        top = 8 * width
        self.project = nn.Linear(cond_dim, top * 16)
        self.grus = nn.ModuleList()
        self.blocks = nn.ModuleList()
        ch = top
        for _ in range(n):
            self.grus.append(ConvGRUCell(ch, ch))
            self.blocks.append(
                nn.ModuleList(
                    [
                        GeneratorBlock(ch, ch, cond_dim, upsample=False),
                        GeneratorBlock(ch, max(ch // 2, 1), cond_dim, upsample=True),
                    ]
                )
            )
            ch = max(ch // 2, 1)
        self.out = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(), nn.Conv2d(ch, channels, 3, 1, 1))
        _orthogonal_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """``z (B, latent_dim)``, ``y (B,)`` -> ``(B, C, T, H, W)``."""
        y = require_labels(self, self.num_classes, y)
        b, frames = z.shape[0], self.data_shape[1]
        cond = z if self.embed is None else torch.cat([z, self.embed(y).to(z.dtype)], dim=1)
        cond_frames = cond.repeat_interleave(frames, dim=0)  # (B·T, cond_dim)
        x = self.project(cond).view(b, -1, 4, 4)
        inputs = [x] * frames  # the same input at every frame of the first ConvGRU
        for gru, (same, up) in zip(self.grus, self.blocks, strict=True):
            h = torch.zeros_like(inputs[0])
            states = []
            for x_t in inputs:
                h = gru(x_t, h)
                states.append(h)
            hidden = torch.stack(states, dim=1).flatten(0, 1)  # (B·T, ch, s, s)
            hidden = up(same(hidden, cond_frames), cond_frames)
            inputs = list(hidden.view(b, frames, *hidden.shape[1:]).unbind(1))
        frames_out = torch.tanh(self.out(torch.stack(inputs, dim=1).flatten(0, 1)))
        return unfold_frames(frames_out, b)


class DiscriminatorBlock(nn.Module):
    """BigGAN D block in 2-D or 3-D: ``[ReLU] -> conv3 -> ReLU -> conv3 -> [avg-pool 2]`` plus a
    (1x1-projected, pooled) shortcut. The first block of a net skips the leading ReLU."""

    def __init__(self, in_ch: int, out_ch: int, dims: int, downsample: bool, first: bool) -> None:
        super().__init__()
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        self.pool = (F.avg_pool3d if dims == 3 else F.avg_pool2d) if downsample else None
        self.first = first
        self.conv1 = conv(in_ch, out_ch, 3, 1, 1)
        self.conv2 = conv(out_ch, out_ch, 3, 1, 1)
        self.shortcut = conv(in_ch, out_ch, 1) if in_ch != out_ch or downsample else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.pool is not None:
            h = self.pool(h, 2)
        s = x
        if self.shortcut is not None:
            if self.first and self.pool is not None:  # BigGAN's first block: pool, then project
                s = self.shortcut(self.pool(s, 2))
            else:
                s = self.shortcut(s)
                s = s if self.pool is None else self.pool(s, 2)
        return h + s


class DVDGANSpatialDiscriminator(Discriminator):
    """``D_S``: frames ``(B, C, k, H, W)`` -> the sum of per-frame scores ``(B,)``; or single
    frames ``(B, C, H, W)`` -> scores ``(B,)``.

    Args:
        data_shape: ``(C, k, H, W)`` (view ``RandomFrames(k, flatten=false)``) or ``(C, H, W)``;
            ``H = W = 4·2^n``.
        num_classes: 0, or the number of classes (projection term).
        width: channels of the first block (``w``), doubled per block up to ``8w``.
    """

    def __init__(self, data_shape: Sequence[int], num_classes: int = 0, width: int = 64) -> None:
        super().__init__()
        name = type(self).__name__
        shape = as_data_shape(name, data_shape)
        if len(shape) not in (3, 4) or shape[-1] != shape[-2]:
            raise ValueError(
                f"{name} judges square frames (C, k, H, W) or (C, H, W); got data_shape={shape}"
            )
        n = doublings(name, shape[-1])
        width = check_width(name, width)
        self.num_classes = num_classes
        self.per_clip = len(shape) == 4
        blocks, ch = [], shape[0]
        for i in range(n):
            out = width * 2 ** min(i, 3)
            blocks.append(DiscriminatorBlock(ch, out, 2, downsample=True, first=i == 0))
            ch = out
        blocks.append(DiscriminatorBlock(ch, ch, 2, downsample=False, first=False))
        self.blocks = nn.Sequential(*blocks)
        self.head = ProjectionHead(ch, num_classes)
        _orthogonal_init_(self)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``x (B, C, k, H, W)`` or ``(B, C, H, W)``, ``y (B,)`` -> ``(B,)``."""
        b = x.shape[0]
        if self.per_clip:
            k = x.shape[2]
            x = x.transpose(1, 2).flatten(0, 1)
            y = None if y is None else y.repeat_interleave(k)
        features = F.relu(self.blocks(x)).sum(dim=(2, 3))
        scores = self.head(features, require_labels(self, self.num_classes, y))
        return scores.view(b, -1).sum(dim=1) if self.per_clip else scores


class DVDGANTemporalDiscriminator(Discriminator):
    """``D_T``: clips ``(B, C, T, H, W)`` (2x downsampled by its view) -> scores ``(B,)``.

    Args:
        data_shape: ``(C, T, H, W)``, ``T`` a multiple of 4, ``H = W = 4·2^n`` with ``n >= 2``.
        num_classes: 0, or the number of classes (projection term).
        width: channels of the first block (``w``), doubled per block up to ``8w``.
    """

    def __init__(self, data_shape: Sequence[int], num_classes: int = 0, width: int = 64) -> None:
        super().__init__()
        name = type(self).__name__
        channels, frames, size, _ = video_shape(name, data_shape)
        n = doublings(name, size)
        if n < 2 or frames % 4:
            raise ValueError(
                f"{name}: its two 3-D blocks halve time and space twice; it needs frames of at "
                f"least 16x16 and a multiple of 4 frames, got data_shape={tuple(data_shape)}"
            )
        width = check_width(name, width)
        self.num_classes = num_classes
        self.blocks3d = nn.Sequential(
            DiscriminatorBlock(channels, width, 3, downsample=True, first=True),
            DiscriminatorBlock(width, 2 * width, 3, downsample=True, first=False),
        )
        blocks, ch = [], 2 * width
        for i in range(2, n):
            out = width * 2 ** min(i, 3)
            blocks.append(DiscriminatorBlock(ch, out, 2, downsample=True, first=False))
            ch = out
        blocks.append(DiscriminatorBlock(ch, ch, 2, downsample=False, first=False))
        self.blocks2d = nn.Sequential(*blocks)
        self.head = ProjectionHead(ch, num_classes)
        _orthogonal_init_(self)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``x (B, C, T, H, W)``, ``y (B,)`` -> ``(B,)``."""
        b = x.shape[0]
        h = self.blocks3d(x)  # (B, 2w, T/4, H/4, W/4)
        h = self.blocks2d(h.transpose(1, 2).flatten(0, 1))  # (B·T/4, ch, 4, 4)
        features = F.relu(h).view(b, -1, *h.shape[1:]).sum(dim=(1, 3, 4))
        return self.head(features, require_labels(self, self.num_classes, y))
