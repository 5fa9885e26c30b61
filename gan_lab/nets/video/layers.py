"""Shape checks and building blocks shared by the video networks.

Shapes: clips are ``(B, C, T, H, W)``; :func:`fold_frames` turns them into a batch of frames
``(B·T, C, H, W)`` for per-frame 2-D layers and :func:`unfold_frames` back.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from gan_lab.nets.layers import as_data_shape

__all__ = [
    "video_shape",
    "doublings",
    "fold_frames",
    "unfold_frames",
    "reject_labels",
    "check_width",
    "uniform_init_",
]


def video_shape(owner: str, data_shape: Sequence[int]) -> tuple[int, int, int, int]:
    """``data_shape`` as ``(C, T, H, W)`` with square frames, or a ValueError naming it."""
    shape = as_data_shape(owner, data_shape)
    if len(shape) != 4 or shape[2] != shape[3]:
        raise ValueError(
            f"{owner} generates or judges video clips (C, T, H, W) with square frames H = W; "
            f"got data_shape={shape}"
        )
    return shape  # type: ignore[return-value]


def doublings(owner: str, size: int, base: int = 4, what: str = "frame size") -> int:
    """``n`` with ``size = base * 2**n`` and ``n >= 1``, or a ValueError naming ``owner``."""
    n = (size // base).bit_length() - 1
    if size < 2 * base or base * 2**n != size:
        raise ValueError(
            f"{owner}: {what} {size} is not {base} times a power of two (>= {2 * base})"
        )
    return n


def check_width(owner: str, width: int) -> int:
    if width < 1:
        raise ValueError(f"{owner}: width must be >= 1, got {width}")
    return int(width)


def reject_labels(owner: str, num_classes: int) -> None:
    """Nets whose papers are unconditional refuse labels with a clear message."""
    if num_classes != 0:
        raise ValueError(
            f"{owner} is unconditional (as in its paper); got num_classes={num_classes}. "
            "Train it with model.conditional=false."
        )


def fold_frames(x: Tensor) -> Tensor:
    """``(B, C, T, H, W)`` -> ``(B·T, C, H, W)``, frames of a clip consecutive."""
    b, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(b * t, c, h, w)


def unfold_frames(x: Tensor, batch: int) -> Tensor:
    """``(B·T, C, H, W)`` -> ``(B, C, T, H, W)``, the inverse of :func:`fold_frames`."""
    bt, c, h, w = x.shape
    return x.view(batch, bt // batch, c, h, w).transpose(1, 2)


def uniform_init_(module: nn.Module, scale: float) -> nn.Module:
    """Weights of every conv/linear layer ~ U[-scale, scale] (Chainer's ``Uniform(scale)``),
    biases zero; norm layers keep PyTorch's defaults. Returns ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            nn.init.uniform_(m.weight, -scale, scale)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module
