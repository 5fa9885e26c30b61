"""Multi-scale next-frame predictor and discriminator of Mathieu, Couprie & LeCun 2016, "Deep
Multi-Scale Video Prediction Beyond Mean Square Error", arXiv:1511.05440.

Both nets work on a pyramid of ``S`` scales (``S = 4`` in the paper: 4x4, 8x8, 16x16, 32x32
patches); scale ``s`` has ``1 / 2^(S-1-s)`` of the full size. Frames are stacked as channels:
``k`` context frames of ``C`` channels make ``k·C`` input channels.

Generator (paper §2.2 and Table 1; ``width = 128`` gives the paper's feature maps): at scale
``s`` a stack of "same"-padded convolutions with ReLUs maps the context ``X_s`` (average-pooled)
and the upsampled prediction of the coarser scale ``u(Ŷ_{s-1})`` to a residual, and
``Ŷ_s = tanh(u(Ŷ_{s-1}) + G_s(X_s, u(Ŷ_{s-1})))`` (the tanh as in the authors' code). Feature
maps / kernel sizes, coarse to fine:

=====  ===========================  =================
scale  feature maps                 kernel sizes
=====  ===========================  =================
1      128, 256, 128                3, 3, 3, 3
2      128, 256, 128                5, 3, 3, 5
3      128, 256, 512, 256, 128      5, 3, 3, 3, 3, 5
4      128, 256, 512, 256, 128      7, 5, 5, 5, 5, 7
=====  ===========================  =================

Discriminator: at each scale, the ``k`` context frames and the ``n`` real or predicted frames
(``(k + n)·C`` channels) go through "valid" convolutions and fully connected layers with ReLUs
to one logit per scale (the paper's sigmoid is in the loss):

=====  ===========================  ==============  ===========
scale  feature maps                 kernel sizes    FC sizes
=====  ===========================  ==============  ===========
1      64                           3               512, 256, 1
2      64, 128, 128                 3, 3, 3         1024, 512, 1
3      128, 256, 256                5, 5, 5         1024, 512, 1
4      128, 256, 512, 128           7, 7, 5, 5      1024, 512, 1
=====  ===========================  ==============  ===========

With fewer scales (``scales < 4``) the finest rows are used. Every size is scaled by
``width / 128``. Upsampling is nearest-neighbour (the authors' code).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.nets.video.layers import check_width, reject_labels, video_shape

__all__ = ["MathieuGenerator", "MathieuDiscriminator", "MAX_SCALES", "pool_clip"]

MAX_SCALES = 4
GENERATOR_MAPS = ((128, 256, 128), (128, 256, 128), (128, 256, 512, 256, 128),
                  (128, 256, 512, 256, 128))
GENERATOR_KERNELS = ((3, 3, 3, 3), (5, 3, 3, 5), (5, 3, 3, 3, 3, 5), (7, 5, 5, 5, 5, 7))
DISCRIMINATOR_MAPS = ((64,), (64, 128, 128), (128, 256, 256), (128, 256, 512, 128))
DISCRIMINATOR_KERNELS = ((3,), (3, 3, 3), (5, 5, 5), (7, 7, 5, 5))
DISCRIMINATOR_FC = ((512, 256), (1024, 512), (1024, 512), (1024, 512))


def _scaled(sizes: Sequence[int], width: int) -> list[int]:
    return [max(1, round(s * width / 128)) for s in sizes]


def _check_scales(owner: str, scales: int, size: int) -> int:
    if not 1 <= scales <= MAX_SCALES:
        raise ValueError(f"{owner}: scales must be in 1..{MAX_SCALES}, got {scales}")
    if size % 2 ** (scales - 1):
        raise ValueError(
            f"{owner}: frames of size {size} cannot be halved {scales - 1} times "
            f"(scales={scales})"
        )
    return int(scales)


def pool_clip(x: Tensor, factor: int) -> Tensor:
    """Average-pool the frames of ``x (B, C, T, H, W)`` by ``factor`` in H and W."""
    return x if factor == 1 else F.avg_pool3d(x, (1, factor, factor))


def _stack(x: Tensor) -> Tensor:
    """``(B, C, T, H, W)`` -> frames as channels ``(B, T·C, H, W)`` (frame-major)."""
    return x.transpose(1, 2).flatten(1, 2)


def _unstack(x: Tensor, channels: int) -> Tensor:
    """``(B, T·C, H, W)`` -> ``(B, C, T, H, W)``."""
    b, tc, h, w = x.shape
    return x.view(b, tc // channels, channels, h, w).transpose(1, 2)


class MathieuGenerator(nn.Module):
    """Multi-scale predictor: context ``(B, C, k, H, W)`` -> next frames ``(B, C, n, H, W)``.

    Fully convolutional: it predicts at any frame size divisible by ``2^(scales-1)``.

    Args:
        data_shape: the data's clips ``(C, T, H, W)`` (``C`` and the frame size are used).
        num_classes: must be 0.
        context_frames: ``k`` (4 in the paper).
        future_frames: ``n`` frames predicted at once (1 in the paper).
        scales: number of scales ``S`` (4 in the paper; 1 = a single-scale network).
        width: feature maps of the first layer of each scale (128 in the paper).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        context_frames: int = 4,
        future_frames: int = 1,
        scales: int = 4,
        width: int = 128,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        reject_labels(name, num_classes)
        channels, _, size, _ = video_shape(name, data_shape)
        if context_frames < 1 or future_frames < 1:
            raise ValueError(f"{name}: context_frames and future_frames must be >= 1")
        self.scales = _check_scales(name, scales, size)
        width = check_width(name, width)
        self.channels = channels
        self.context_frames = context_frames
        self.future_frames = future_frames
        self.nets = nn.ModuleList()
        first = MAX_SCALES - self.scales
        for i, (maps, kernels) in enumerate(
            zip(GENERATOR_MAPS[first:], GENERATOR_KERNELS[first:], strict=True)
        ):
            in_ch = (context_frames + (future_frames if i > 0 else 0)) * channels
            sizes = [in_ch, *_scaled(maps, width), future_frames * channels]
            layers: list[nn.Module] = []
            for j, k in enumerate(kernels):
                layers.append(nn.Conv2d(sizes[j], sizes[j + 1], k, 1, k // 2))
                if j < len(kernels) - 1:
                    layers.append(nn.ReLU())
            self.nets.append(nn.Sequential(*layers))

    def pyramid(self, context: Tensor) -> list[Tensor]:
        """Predictions at every scale, coarse to fine: ``(B, C, n, H / 2^(S-1-s), ...)``."""
        if context.ndim != 5 or context.shape[2] != self.context_frames:
            raise ValueError(
                f"{type(self).__name__} expects context (B, C, {self.context_frames}, H, W), "
                f"got {tuple(context.shape)}"
            )
        frames = _stack(context)
        guess: Tensor | None = None
        out = []
        for s, net in enumerate(self.nets):
            factor = 2 ** (self.scales - 1 - s)
            x = frames if factor == 1 else F.avg_pool2d(frames, factor)
            if guess is None:
                pred = torch.tanh(net(x))
            else:
                up = F.interpolate(guess, scale_factor=2, mode="nearest")
                pred = torch.tanh(net(torch.cat([x, up], dim=1)) + up)
            guess = pred
            out.append(_unstack(pred, self.channels))
        return out

    def forward(self, context: Tensor) -> Tensor:
        """``context (B, C, k, H, W)`` -> the finest prediction ``(B, C, n, H, W)``."""
        return self.pyramid(context)[-1]


class MathieuDiscriminator(nn.Module):
    """Multi-scale discriminator: a pyramid of clips ``(B, C, k + n, h_s, w_s)``, coarse to
    fine, -> one logit per scale ``(B, S)``.

    Args:
        data_shape: ``(C, k + n, h, w)``: the clips it judges at the finest scale (the
            training crop: 32x32 in the paper).
        num_classes: must be 0.
        scales: ``S``, as the generator's.
        width: 128 gives the paper's sizes.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        scales: int = 4,
        width: int = 128,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        reject_labels(name, num_classes)
        channels, frames, size, _ = video_shape(name, data_shape)
        self.scales = _check_scales(name, scales, size)
        width = check_width(name, width)
        first = MAX_SCALES - self.scales
        self.nets = nn.ModuleList()
        for s, (maps, kernels, fc) in enumerate(
            zip(
                DISCRIMINATOR_MAPS[first:],
                DISCRIMINATOR_KERNELS[first:],
                DISCRIMINATOR_FC[first:],
                strict=True,
            )
        ):
            side = scale_size = size // 2 ** (self.scales - 1 - s)
            layers: list[nn.Module] = []
            ch = frames * channels
            for m, k in zip(_scaled(maps, width), kernels, strict=True):
                layers += [nn.Conv2d(ch, m, k), nn.ReLU()]
                ch, side = m, side - k + 1
            if side < 1:
                raise ValueError(
                    f"{name}: scale {s + 1} of {self.scales} sees {scale_size}-pixel frames, "
                    f"too small for its valid convolutions {kernels}; use larger "
                    "frames (the paper: 32x32 crops for 4 scales) or fewer scales"
                )
            features = ch * side * side
            layers.append(nn.Flatten())
            for units in _scaled(fc, width):
                layers += [nn.Linear(features, units), nn.ReLU()]
                features = units
            layers.append(nn.Linear(features, 1))
            self.nets.append(nn.Sequential(*layers))

    def forward(self, pyramid: Sequence[Tensor], y: Tensor | None = None) -> Tensor:
        """``pyramid``: ``S`` clips ``(B, C, k + n, h_s, w_s)``, coarse to fine -> ``(B, S)``."""
        if isinstance(pyramid, Tensor) or len(pyramid) != self.scales:
            raise ValueError(
                f"{type(self).__name__} takes a list of {self.scales} clips, one per scale "
                "(coarse to fine)"
            )
        return torch.cat([net(_stack(x)) for net, x in zip(self.nets, pyramid, strict=True)], 1)
