"""R3GAN's generator and discriminator: a modernised ResNet without normalization.

Huang, Gokaslan, Kuleshov & Tompkin 2024, "The GAN is dead; long live the GAN! A Modern GAN
Baseline", arXiv:2501.05441, §3 (Config E) and the authors' ``R3GAN/Networks.py``:

* stages at 4×4, 8×8, ... (7×7, 14×14, 28×28 for MNIST-sized images), each of ``blocks``
  residual blocks ``x + conv1x1(act(conv3x3_grouped(act(conv1x1(x)))))`` with an inverted
  bottleneck (``expansion`` × the stage's channels) and grouped 3×3 convolutions of
  ``group_size`` channels per group; leaky ReLU 0.2 with a learned bias; no normalization;
* fix-up initialisation: weights ~ N(0, gain² / fan_in) with the activation's gain scaled by
  ``L^{-1/(2·3-2)}`` (``L`` residual blocks in the net, 3 layers per block), the last layer of
  every block zero, so that every block starts as the identity;
* transitions between stages: a 1×1 convolution where the width changes, and resampling;
* G's first layer multiplies a learned 4×4 basis by a linear map of ``z``
  (``basis · (W z)``); its last a 1×1 convolution to the image channels, with no output
  non-linearity. D's first layer is a 1×1 convolution from the image; its last a depthwise
  convolution over the whole 4×4 map (a learned basis per channel) and a linear map to a logit.

Deviations: resampling is bilinear interpolation (G, ×2) and 2×2 average pooling (D) instead of
the [1, 2, 1] FIR filter; the nets are unconditional; widths double from the highest resolution
towards 4×4 up to ``max_width`` (the paper lists a width per stage). G's samples are not
squashed into [-1, 1] (as in the paper): writers and metrics clip them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.nets.base import Discriminator, Generator
from gan_lab.nets.layers import as_data_shape

__all__ = ["R3GANDiscriminator", "R3GANGenerator"]

SLOPE = 0.2
ACTIVATION_GAIN = math.sqrt(2.0 / (1.0 + SLOPE**2))
LAYERS_PER_BLOCK = 3


def msr_init_(layer: nn.Module, gain: float = 1.0) -> nn.Module:
    """Weights ~ N(0, gain² / fan_in) (He et al. 2015), zero where ``gain`` is 0; biases 0."""
    with torch.no_grad():
        if gain == 0:
            layer.weight.zero_()
        else:
            fan_in = layer.weight[0].numel()
            layer.weight.normal_(0.0, gain / math.sqrt(fan_in))
        if getattr(layer, "bias", None) is not None:
            layer.bias.zero_()
    return layer


class BiasedLeakyReLU(nn.Module):
    """``leaky_relu(x + b, 0.2)`` with a learned bias per channel ``(B, C, H, W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x + self.bias.view(1, -1, 1, 1).to(x.dtype), SLOPE)


class ResidualBlock(nn.Module):
    """Inverted-bottleneck residual block with a grouped 3×3 convolution, fix-up initialised."""

    def __init__(self, channels: int, expansion: int, group_size: int, total_blocks: int):
        super().__init__()
        hidden = channels * expansion
        if hidden % group_size:
            raise ValueError(
                f"R3GAN block: {channels} channels × expansion {expansion} = {hidden} is not "
                f"divisible by group_size={group_size}"
            )
        gain = ACTIVATION_GAIN * total_blocks ** (-1.0 / (2 * LAYERS_PER_BLOCK - 2))
        self.expand = msr_init_(nn.Conv2d(channels, hidden, 1, bias=False), gain)
        self.act1 = BiasedLeakyReLU(hidden)
        self.spatial = msr_init_(
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden // group_size, bias=False), gain
        )
        self.act2 = BiasedLeakyReLU(hidden)
        self.project = msr_init_(nn.Conv2d(hidden, channels, 1, bias=False), 0.0)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.project(self.act2(self.spatial(self.act1(self.expand(x)))))


def plan(owner: str, data_shape: Sequence[int], width: int, max_width: int
         ) -> tuple[int, int, list[int]]:
    """``(channels, base size, widths per stage from the base up to the image size)``."""
    shape = as_data_shape(owner, data_shape)
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"{owner} takes square images (C, H, W), got data_shape={shape}")
    size = shape[1]
    base = 7 if size in (7, 14, 28) else 4
    steps = int(math.log2(size // base)) if size >= base else -1
    if steps < 0 or base * 2**steps != size:
        raise ValueError(
            f"{owner}: image size {size} must be 4·2^k (4, 8, ..., 256) or 7·2^k (7, 14, 28)"
        )
    if width < 1 or max_width < width:
        raise ValueError(f"{owner}: need 1 <= width <= max_width, got {width}, {max_width}")
    widths = [min(width * 2**k, max_width) for k in range(steps, -1, -1)]
    return shape[0], base, widths


def _stage(channels: int, blocks: int, expansion: int, group_size: int, total: int
           ) -> nn.Sequential:
    return nn.Sequential(*(ResidualBlock(channels, expansion, group_size, total)
                           for _ in range(blocks)))


class R3GANGenerator(Generator):
    """R3GAN generator: ``z (B, latent_dim)`` -> ``(B, C, H, W)``.

    Args:
        data_shape: ``(C, H, W)``, square, ``H`` = 4·2^k or 7·2^k.
        num_classes: must be 0 (unconditional).
        latent_dim: size of z (64 in the paper's Stacked MNIST/CIFAR configs).
        width: channels at the image resolution; doubled per stage towards 4×4.
        max_width: cap on the channels of a stage.
        blocks: residual blocks per stage (2 in the paper).
        expansion: inverted-bottleneck expansion (2).
        group_size: channels per group of the 3×3 convolutions (16).
        prior: ``"normal"`` (the paper) or ``"uniform"``.
    """

    def __init__(self, data_shape: Sequence[int], num_classes: int = 0, latent_dim: int = 64,
                 width: int = 32, max_width: int = 256, blocks: int = 1, expansion: int = 2,
                 group_size: int = 16, prior: str = "normal") -> None:
        super().__init__(latent_dim, prior)
        name = type(self).__name__
        if num_classes:
            raise ValueError(f"{name} is unconditional here: model.conditional must be false")
        channels, base, widths = plan(name, data_shape, width, max_width)
        total = blocks * len(widths)
        self.basis = nn.Parameter(torch.randn(widths[0], base, base))
        self.project = msr_init_(nn.Linear(latent_dim, widths[0], bias=False))
        stages: list[nn.Module] = []
        for i, w in enumerate(widths):
            if i:
                stages.append(_Upsample(widths[i - 1], w))
            stages.append(_stage(w, blocks, expansion, group_size, total))
        self.stages = nn.Sequential(*stages)
        self.to_image = msr_init_(nn.Conv2d(widths[-1], channels, 1))

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        x = self.basis[None] * self.project(z)[:, :, None, None]
        return self.to_image(self.stages(x))


class R3GANDiscriminator(Discriminator):
    """R3GAN discriminator: ``x (B, C, H, W)`` -> logits ``(B,)``; arguments as the
    generator's (``width`` at the image resolution, doubled per stage towards 4×4)."""

    def __init__(self, data_shape: Sequence[int], num_classes: int = 0, width: int = 32,
                 max_width: int = 256, blocks: int = 1, expansion: int = 2,
                 group_size: int = 16) -> None:
        super().__init__()
        name = type(self).__name__
        if num_classes:
            raise ValueError(f"{name} is unconditional here: model.conditional must be false")
        channels, base, widths = plan(name, data_shape, width, max_width)
        widths = widths[::-1]  # image resolution first
        total = blocks * len(widths)
        self.from_image = msr_init_(nn.Conv2d(channels, widths[0], 1))
        stages: list[nn.Module] = []
        for i, w in enumerate(widths):
            stages.append(_stage(w, blocks, expansion, group_size, total))
            if i + 1 < len(widths):
                stages.append(_Downsample(w, widths[i + 1]))
        self.stages = nn.Sequential(*stages)
        last = widths[-1]
        self.basis = msr_init_(nn.Conv2d(last, last, base, groups=last, bias=False))
        self.to_logit = msr_init_(nn.Linear(last, 1, bias=False))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.basis(self.stages(self.from_image(x))).flatten(1)
        return self.to_logit(h).squeeze(1)


class _Upsample(nn.Module):
    """1×1 convolution where the width changes, then bilinear ×2."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = msr_init_(nn.Conv2d(c_in, c_out, 1, bias=False)) if c_in != c_out else None

    def forward(self, x: Tensor) -> Tensor:
        x = x if self.conv is None else self.conv(x)
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class _Downsample(nn.Module):
    """2×2 average pooling, then a 1×1 convolution where the width changes."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = msr_init_(nn.Conv2d(c_in, c_out, 1, bias=False)) if c_in != c_out else None

    def forward(self, x: Tensor) -> Tensor:
        x = F.avg_pool2d(x, 2)
        return x if self.conv is None else self.conv(x)
