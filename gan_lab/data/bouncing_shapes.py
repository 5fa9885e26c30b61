"""Bouncing shapes: synthetic RGB clips of coloured squares, circles and triangles.

A colour video data set that needs no files, for testing the 3-channel video paths. Each clip
has ``num_shapes`` shapes on a black canvas; each shape has a uniform kind, a uniform integer
size in ``[min_size, max_size]``, a saturated random colour (hue uniform, saturation in
[0.6, 1], value in [0.7, 1]) and bounces like a Moving MNIST digit
(:func:`~gan_lab.data.clips.bouncing_trajectories`: uniform start and direction, fixed speed,
clamp and reverse at the edges). Shapes are drawn in order with anti-aliased edges (4x4
supersampled masks), later ones on top. Clip ``i`` depends on ``(seed, i)`` only.

Labels: ``y`` is the kind of the first shape (index into ``kinds``).
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.data.clips import (
    bouncing_trajectories,
    clip_rng,
    uint8_clip_to_model,
)

SHAPES = ("square", "circle", "triangle")
SUPERSAMPLE = 4
STEP_LENGTH = 0.1  # per frame, as a fraction of the free range (as in Moving MNIST)


@cache
def shape_mask(kind: str, size: int) -> np.ndarray:
    """Coverage ``(size, size)`` float32 in [0, 1] of a shape filling its box, anti-aliased.

    "square" fills the box; "circle" is the inscribed disc; "triangle" points up, its base
    the bottom edge and its apex the top centre.
    """
    n = size * SUPERSAMPLE
    c = (np.arange(n) + 0.5) / n  # sample centres in [0, 1]
    y, x = np.meshgrid(c, c, indexing="ij")
    if kind == "square":
        inside = np.ones((n, n), dtype=bool)
    elif kind == "circle":
        inside = (y - 0.5) ** 2 + (x - 0.5) ** 2 <= 0.25
    elif kind == "triangle":
        inside = np.abs(x - 0.5) <= y / 2
    else:
        raise ValueError(f"unknown shape {kind!r}; choose from {SHAPES}")
    mask = inside.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(1, 3))
    mask = mask.astype(np.float32)
    mask.flags.writeable = False
    return mask


def random_colors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` saturated colours, uint8 ``(n, 3)`` RGB: hue uniform, S in [0.6, 1], V in [0.7, 1]."""
    hsv = rng.random((n, 3)) * [1.0, 0.4, 0.3] + [0.0, 0.6, 0.7]
    rgb = np.array([colorsys.hsv_to_rgb(*c) for c in hsv])
    return (rgb * 255).round().astype(np.uint8)


@dataclass(frozen=True)
class BouncingShapesClip:
    """One clip and how it was made (``T`` frames, ``K`` shapes).

    Attributes:
        frames: uint8 ``(3, T, H, W)`` RGB.
        positions: float64 ``(T, K, 2)``: top-left ``(y, x)`` of each shape's box in pixels
            (drawn at the integer part).
        velocities: float64 ``(T, K, 2)``: px per frame after frame ``t``'s bounce.
        kinds: int64 ``(K,)``: indices into the ``kinds`` the clip was drawn from.
        sizes: int64 ``(K,)``: side of each shape's box in pixels.
        colors: uint8 ``(K, 3)``: RGB colours.
    """

    frames: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    kinds: np.ndarray
    sizes: np.ndarray
    colors: np.ndarray


def bouncing_shapes_clip(
    rng: np.random.Generator | int | Sequence[int],
    num_shapes: int = 2,
    frames: int = 16,
    resolution: int = 64,
    min_size: int = 12,
    max_size: int = 20,
    speed: float | None = None,
    kinds: Sequence[str] = SHAPES,
) -> BouncingShapesClip:
    """One clip of ``num_shapes`` bouncing shapes on a ``resolution``-square black canvas.

    ``speed`` is in px per frame; ``None`` = 0.1 * (resolution - max_size). Draws, in order:
    kinds, sizes, colours, start positions, directions.
    """
    if not 1 <= min_size <= max_size <= resolution:
        raise ValueError(
            f"need 1 <= min_size <= max_size <= resolution, got {min_size}, {max_size}, "
            f"{resolution}"
        )
    rng = np.random.default_rng(rng)
    speed = STEP_LENGTH * (resolution - max_size) if speed is None else float(speed)
    kind = rng.integers(len(kinds), size=num_shapes)
    size = rng.integers(min_size, max_size + 1, size=num_shapes)
    color = random_colors(rng, num_shapes)
    positions, velocities = bouncing_trajectories(
        rng, num_shapes, frames, resolution - size, speed
    )
    top_left = positions.astype(np.int64)
    canvas = np.zeros((frames, resolution, resolution, 3), dtype=np.float32)
    for k in range(num_shapes):
        s = int(size[k])
        alpha = shape_mask(kinds[kind[k]], s)[..., None]  # (s, s, 1)
        paint = alpha * color[k].astype(np.float32)
        for t in range(frames):
            y, x = top_left[t, k]
            patch = canvas[t, y : y + s, x : x + s]
            patch *= 1 - alpha
            patch += paint
    video = canvas.round().astype(np.uint8).transpose(3, 0, 1, 2)
    return BouncingShapesClip(
        frames=np.ascontiguousarray(video),
        positions=positions,
        velocities=velocities,
        kinds=kind.astype(np.int64),
        sizes=size.astype(np.int64),
        colors=color,
    )


class BouncingShapesDataset(Dataset):
    """Clips generated on the fly: item ``i`` is ``(x (3, T, H, W) in [-1, 1], y)``.

    Item ``i`` is a function of ``(seed, i)``; any ``i >= 0`` is valid (training reads the
    endless stream in order), ``len`` is the number of clips an evaluation draws its real
    samples from. :meth:`clip` gives the metadata.
    """

    def __init__(
        self,
        length: int,
        seed: int = 0,
        num_shapes: int = 2,
        frames: int = 16,
        resolution: int = 64,
        min_size: int = 12,
        max_size: int = 20,
        speed: float | None = None,
        kinds: Sequence[str] = SHAPES,
    ) -> None:
        self.length = length
        self.seed = seed
        self.options = {
            "num_shapes": num_shapes,
            "frames": frames,
            "resolution": resolution,
            "min_size": min_size,
            "max_size": max_size,
            "speed": speed,
            "kinds": tuple(kinds),
        }

    def __len__(self) -> int:
        return self.length

    def clip(self, index: int) -> BouncingShapesClip:
        return bouncing_shapes_clip(clip_rng(self.seed, 0, index), **self.options)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        clip = self.clip(index)
        return uint8_clip_to_model(clip.frames), torch.tensor(clip.kinds[0])


class BouncingShapesDataModule(GANDataModule):
    """Bouncing coloured shapes as ``(x (B, 3, T, R, R) in [-1, 1], y (B,))`` batches.

    Args:
        resolution: canvas side ``R``.
        frames: frames per clip ``T``.
        num_shapes: shapes per clip.
        min_size, max_size: range of the shapes' box sides in pixels.
        speed: px per frame; ``None`` = 0.1 * (resolution - max_size).
        kinds: the shapes to draw from (any of "square", "circle", "triangle").
        length: the clips an evaluation draws its real samples from; training reads the
            endless stream of new clips.

    Attributes:
        spec: ``DataSpec((3, frames, R, R), num_classes=len(kinds))``; ``y`` = first shape's
            kind.
        dataset: the :class:`BouncingShapesDataset` (after ``setup``).
    """

    def __init__(
        self,
        resolution: int = 64,
        frames: int = 16,
        num_shapes: int = 2,
        min_size: int = 12,
        max_size: int = 20,
        speed: float | None = None,
        kinds: Sequence[str] = SHAPES,
        length: int = 10_000,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        kinds = tuple(kinds)
        unknown = [k for k in kinds if k not in SHAPES]
        if unknown or not kinds:
            raise ValueError(f"kinds must be a non-empty subset of {SHAPES}, got {list(kinds)}")
        if not 1 <= min_size <= max_size <= resolution:
            raise ValueError(
                f"need 1 <= min_size <= max_size <= resolution, got min_size={min_size}, "
                f"max_size={max_size}, resolution={resolution}"
            )
        if frames < 1 or num_shapes < 1 or length < 1:
            raise ValueError(
                f"frames, num_shapes and length must be >= 1, got {frames}, {num_shapes}, "
                f"{length}"
            )
        self.dataset_options = {
            "length": length,
            "seed": seed,
            "num_shapes": num_shapes,
            "frames": frames,
            "resolution": resolution,
            "min_size": min_size,
            "max_size": max_size,
            "speed": speed,
            "kinds": kinds,
        }
        self.spec = DataSpec(shape=(3, frames, resolution, resolution), num_classes=len(kinds))
        self.dataset: BouncingShapesDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is None:
            self.dataset = BouncingShapesDataset(**self.dataset_options)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        return self.training_loader(self.dataset, "bouncing shapes (generated)", shuffle=False)
