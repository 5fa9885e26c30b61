"""Writing samples to files: image grids, 2-D scatter plots and raw arrays.

All functions take tensors in model space [-1, 1] (see :mod:`gan_lab`) and the data's
:class:`~gan_lab.data.base.DataSpec`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_lab.data.base import DataSpec


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats to uint8 [0, 255] (clamped)."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def image_grid(x: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """``(N, C, H, W)`` in [-1, 1] → one ``(H', W', C)`` uint8 grid, ``nrow`` images a row."""
    if x.ndim != 4:
        raise ValueError(f"image_grid expects (N, C, H, W), got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    grid = torch.zeros(c, rows * (h + padding) + padding, nrow * (w + padding) + padding,
                       dtype=torch.uint8)
    for i, img in enumerate(to_uint8(x.cpu())):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = img
    return grid.permute(1, 2, 0).numpy()


def save_png(array: np.ndarray, path: str | Path) -> Path:
    """Save an ``(H, W, C)`` uint8 array (C = 1 or 3) as PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "L" if array.shape[-1] == 1 else "RGB"
    Image.fromarray(array[..., 0] if mode == "L" else array, mode=mode).save(path)
    return path


def save_scatter(points: np.ndarray, path: str | Path, title: str = "") -> Path:
    """A scatter plot PNG of ``(N, 2)`` points (data space)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
    ax.set_aspect("equal")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_samples(
    x: torch.Tensor, spec: DataSpec, path: str | Path, nrow: int | None = None
) -> Path:
    """Write samples ``(N, *spec.shape)`` (model space) to ``path``, by its suffix.

    ``.npy``: the raw samples in data space (``(N, 2)`` for 2-D data, ``(N, C, H, W)`` for
    images). ``.png``: an image grid, or a scatter plot for 2-D data.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, spec.to_data_space(x.detach().float().cpu()).numpy())
        return path
    if suffix == ".png" and spec.modality == "image":
        return save_png(image_grid(x, nrow), path)
    if suffix == ".png" and spec.modality == "vector" and spec.shape == (2,):
        return save_scatter(spec.to_data_space(x.detach().float().cpu()).numpy(), path)
    raise ValueError(
        f"cannot write {spec.modality} samples of shape {spec.shape} to '{path.name}': "
        "use .npy, or .png for images and 2-D points"
    )
