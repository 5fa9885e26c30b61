"""Views: what one discriminator of a :class:`~gan_lab.modules.video.VideoGAN` sees of a clip.

A view maps a batch of clips ``x (B, C, T, H, W)`` and its labels ``y (B,)`` (or ``None``) to
the discriminator's input and labels; :meth:`View.output_shape` gives the shape of one input, so
the discriminator can be built for it. Views hold no parameters and are applied to the real and
to the generated batch alike (and to both by the regularizer, e.g. a gradient penalty on each
discriminator's own view).

**Random frames: independent draws for real and fake.** :class:`RandomFrames` draws its frame
indices afresh at every call, independently for the real and the generated batch, and
independently per clip (without replacement within a clip). This is what the papers do: MoCoGAN
(Tulyakov et al. 2018, arXiv:1707.04993) trains its image discriminator on frames sampled from
real videos and on frames sampled from separately generated videos (the authors' code draws both
at random), and DVD-GAN (Clark et al. 2019, arXiv:1907.06571) samples ``k`` frames per clip. An
image discriminator is meant to compare the *marginal* distribution of single frames, which
both draws estimate without bias; sharing indices between the real and the fake batch would
not change that distribution, only correlate the two estimates.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "View",
    "WholeClip",
    "RandomFrames",
    "SpatialDownsample",
    "take_frames",
]


def _clip_shape(owner: str, data_shape: Sequence[int]) -> tuple[int, int, int, int]:
    shape = tuple(int(s) for s in data_shape)
    if len(shape) != 4:
        raise ValueError(f"{owner} needs video data (C, T, H, W), got data_shape={shape}")
    return shape  # type: ignore[return-value]


def _check_clips(owner: str, x: Tensor) -> None:
    if x.ndim != 5:
        raise ValueError(f"{owner} expects clips (B, C, T, H, W), got shape {tuple(x.shape)}")


def take_frames(x: Tensor, index: Tensor) -> Tensor:
    """Frames ``index (B, n)`` of each clip ``x (B, C, T, H, W)`` -> ``(B, C, n, H, W)``."""
    batch = torch.arange(x.shape[0], device=x.device)[:, None]
    return x.transpose(1, 2)[batch, index].transpose(1, 2)


class View:
    """Base of the views: subclasses implement :meth:`__call__` and, when the shape changes,
    :meth:`output_shape`."""

    def output_shape(self, data_shape: Sequence[int]) -> tuple[int, ...]:
        """Shape of one view of a clip of shape ``data_shape`` ``(C, T, H, W)``."""
        return _clip_shape(type(self).__name__, data_shape)

    def __call__(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """``x (B, C, T, H, W)``, ``y (B,)`` -> the discriminator's input and labels."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class WholeClip(View):
    """The clip as it is: ``(B, C, T, H, W)``."""

    def __call__(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        _check_clips(type(self).__name__, x)
        return x, y


class RandomFrames(View):
    """``k`` random frames of each clip (distinct within a clip, in temporal order).

    Args:
        k: frames per clip (MoCoGAN's image discriminator: 1; DVD-GAN's spatial one: 8).
        flatten: ``True``: the frames become images ``(B·k, C, H, W)`` (labels repeated ``k``
            times), each judged on its own; ``False``: a clip of the ``k`` frames
            ``(B, C, k, H, W)``, for a discriminator that scores frames and combines the scores
            per clip (DVD-GAN sums them).
    """

    def __init__(self, k: int = 1, flatten: bool = True) -> None:
        if k < 1:
            raise ValueError(f"RandomFrames: k must be >= 1, got {k}")
        self.k = int(k)
        self.flatten = bool(flatten)

    def output_shape(self, data_shape: Sequence[int]) -> tuple[int, ...]:
        c, t, h, w = _clip_shape(type(self).__name__, data_shape)
        if self.k > t:
            raise ValueError(f"RandomFrames: k={self.k} frames asked of clips of {t} frames")
        return (c, h, w) if self.flatten else (c, self.k, h, w)

    def __call__(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        _check_clips(type(self).__name__, x)
        b, c, t, h, w = x.shape
        if self.k > t:
            raise ValueError(f"RandomFrames: k={self.k} frames asked of clips of {t} frames")
        index = torch.rand(b, t, device=x.device).argsort(dim=1)[:, : self.k].sort(dim=1).values
        frames = take_frames(x, index)
        if not self.flatten:
            return frames, y
        images = frames.transpose(1, 2).reshape(b * self.k, c, h, w)
        return images, None if y is None else y.repeat_interleave(self.k)


class SpatialDownsample(View):
    """The clip average-pooled by ``factor`` in height and width: ``(B, C, T, H/f, W/f)``
    (DVD-GAN's temporal discriminator sees the clip downsampled 2x)."""

    def __init__(self, factor: int = 2) -> None:
        if factor < 1:
            raise ValueError(f"SpatialDownsample: factor must be >= 1, got {factor}")
        self.factor = int(factor)

    def output_shape(self, data_shape: Sequence[int]) -> tuple[int, ...]:
        c, t, h, w = _clip_shape(type(self).__name__, data_shape)
        if h % self.factor or w % self.factor:
            raise ValueError(
                f"SpatialDownsample: frames {h}x{w} are not divisible by factor {self.factor}"
            )
        return (c, t, h // self.factor, w // self.factor)

    def __call__(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        _check_clips(type(self).__name__, x)
        f = self.factor
        return F.avg_pool3d(x, kernel_size=(1, f, f)), y
