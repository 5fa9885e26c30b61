"""DiffAugment: differentiable augmentation of every discriminator input, real and fake alike.

Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN Training",
arXiv:2006.10738; the operations and ranges of the authors' ``DiffAugment_pytorch.py`` (MIT,
github.com/mit-han-lab/data-efficient-gans), written anew for images ``(B, C, H, W)`` and clips
``(B, C, T, H, W)`` in [-1, 1]:

* ``color``: brightness ``x + (u - 0.5)``, saturation ``(x - mean_c) · 2u + mean_c`` (mean over
  channels), contrast ``(x - mean) · (u + 0.5) + mean`` (mean over the whole sample), each with
  its own ``u ~ U[0, 1)`` per sample;
* ``translation``: a shift of up to ``ratio`` (1/8) of the height and width, per sample, filled
  with zeros;
* ``cutout``: a square of ``ratio`` (1/2) of the size, at a random centre per sample, set to 0.

Every operation is differentiable in ``x``, so G's gradient passes through the augmentation of
its samples. **Clips** get one transform per clip, the same on every frame (as DIGAN and
StyleGAN-V apply DiffAugment to videos), so augmentation never creates motion. Deviation: for a
clip, the contrast mean is taken over the whole clip (for an image, over the image, as in the
reference), so that one affine map applies to all its frames. Random numbers come from torch's
global generator, which gan_lab seeds and checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["DiffAugment", "rand_brightness", "rand_contrast", "rand_cutout", "rand_saturation",
           "rand_translation"]


def _per_sample(x: Tensor) -> Tensor:
    """``u ~ U[0, 1)`` of shape ``(B, 1, ..., 1)``, broadcastable over one sample of ``x``."""
    return torch.rand(x.shape[0], *([1] * (x.ndim - 1)), dtype=x.dtype, device=x.device)


def rand_brightness(x: Tensor) -> Tensor:
    """Add ``u - 0.5`` to every value of a sample."""
    return x + (_per_sample(x) - 0.5)


def rand_saturation(x: Tensor) -> Tensor:
    """Scale each pixel's deviation from its mean over channels by ``2u``."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_per_sample(x) * 2) + mean


def rand_contrast(x: Tensor) -> Tensor:
    """Scale each sample's deviation from its mean (over all its values) by ``u + 0.5``."""
    mean = x.mean(dim=tuple(range(1, x.ndim)), keepdim=True)
    return (x - mean) * (_per_sample(x) + 0.5) + mean


def _as_planes(x: Tensor) -> tuple[Tensor, torch.Size]:
    """``(B, C, ..., H, W)`` -> ``(B, P, H, W)`` planes that share one spatial transform."""
    return x.reshape(x.shape[0], -1, *x.shape[-2:]), x.shape


def rand_translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each sample by up to ``round(ratio · H)`` rows and ``round(ratio · W)`` columns,
    filling with zeros."""
    planes, shape = _as_planes(x)
    b, _, h, w = planes.shape
    max_dy, max_dx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-max_dy, max_dy + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-max_dx, max_dx + 1, (b, 1, 1), device=x.device)
    rows = (torch.arange(h, device=x.device)[None, :, None] + dy + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device)[None, None, :] + dx + 1).clamp(0, w + 1)
    padded = F.pad(planes, [1, 1, 1, 1])  # a zero border: indices 0 and H+1 read zeros
    batch = torch.arange(b, device=x.device)[:, None, None]
    moved = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    return moved.reshape(shape)


def rand_cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a ``round(ratio · H) × round(ratio · W)`` rectangle at a random centre per sample
    (clipped at the borders)."""
    planes, shape = _as_planes(x)
    b, _, h, w = planes.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - size_y % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - size_x % 2), (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device)[None, :, None]
    cols = torch.arange(w, device=x.device)[None, None, :]
    top, left = cy - size_y // 2, cx - size_x // 2
    inside = ((rows >= top) & (rows < top + size_y)) & ((cols >= left) & (cols < left + size_x))
    return (planes * (~inside).to(planes.dtype)[:, None]).reshape(shape)


POLICIES: dict[str, list[str]] = {
    "color": ["brightness", "saturation", "contrast"],
    "translation": ["translation"],
    "cutout": ["cutout"],
}


class DiffAugment:
    """The DiffAugment transform of a policy, applied to every D input (real and fake).

    Args:
        policy: comma-separated operations, applied in order: ``color``, ``translation``,
            ``cutout`` (the paper's default is all three).
        translation_ratio: largest shift as a fraction of the size (1/8).
        cutout_ratio: side of the cut-out square as a fraction of the size (1/2).
    """

    def __init__(
        self, policy: str = "color,translation,cutout", translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
    ) -> None:
        names = [p.strip() for p in policy.split(",") if p.strip()]
        unknown = [p for p in names if p not in POLICIES]
        if unknown or not names:
            raise ValueError(
                f"augment.policy: unknown or empty operations {unknown or [policy]}; choose "
                f"from {list(POLICIES)}, comma-separated"
            )
        if not 0 <= translation_ratio < 1 or not 0 < cutout_ratio <= 1:
            raise ValueError("augment: translation_ratio in [0, 1), cutout_ratio in (0, 1]")
        self.policy = ",".join(names)
        self.translation_ratio = float(translation_ratio)
        self.cutout_ratio = float(cutout_ratio)
        ops: dict[str, Callable[[Tensor], Tensor]] = {
            "brightness": rand_brightness,
            "saturation": rand_saturation,
            "contrast": rand_contrast,
            "translation": lambda x: rand_translation(x, self.translation_ratio),
            "cutout": lambda x: rand_cutout(x, self.cutout_ratio),
        }
        self._ops = [ops[op] for name in names for op in POLICIES[name]]

    def check(self, shape: tuple[int, ...]) -> None:
        """Raise a ValueError unless one sample of ``shape`` is an image or a clip."""
        if len(shape) not in (3, 4):
            raise ValueError(
                f"augment=diffaugment transforms images (C, H, W) and clips (C, T, H, W); the "
                f"data gives samples of shape {tuple(shape)}: use augment=none"
            )

    def __call__(self, x: Tensor) -> Tensor:
        """``x (B, C, H, W)`` or ``(B, C, T, H, W)`` -> augmented, same shape."""
        if x.ndim not in (4, 5):
            raise ValueError(f"DiffAugment expects (B, C, H, W) or (B, C, T, H, W), got "
                             f"{tuple(x.shape)}")
        for op in self._ops:
            x = op(x)
        return x

    def __repr__(self) -> str:
        return (f"DiffAugment(policy={self.policy!r}, translation_ratio="
                f"{self.translation_ratio}, cutout_ratio={self.cutout_ratio})")
