"""Moving MNIST (Srivastava, Mansimov and Salakhutdinov, 2015, arXiv:1502.04681).

The protocol of the data generator released with the paper (``BouncingMNISTDataHandler``):
a 64x64 black canvas and 2 MNIST digits of 28x28 for 20 frames; each digit starts at a uniform
position with a uniform direction and moves 0.1 of the free range per frame
(0.1 * (64 - 28) = 3.6 px); a coordinate that leaves the range is clamped to the edge and its
velocity component reversed (:func:`~gan_lab.data.clips.bouncing_trajectories`); as in that
code, each frame is recorded after its step (frame 0 is one step from the drawn start), a digit
is drawn at the integer part of its position, and overlapping digits merge by pixel-wise
maximum.

Deviations: digits are drawn uniformly (two distinct digits per clip) instead of walking
through a shuffled copy of the data set, so that clip ``i`` depends on ``(seed, split, i)``
only and can be generated in any order by any DataLoader worker; the digits are the shipped
MNIST digits of :func:`gan_lab.data.mnist.load_mnist` (or the full IDX files in
``mnist_root``), with disjoint "train" and "val" pools.

Labels: ``y`` is the class of the first digit of the clip (``num_classes = 10``); the full
metadata of a clip (both labels, trajectories, velocities) comes from
:func:`moving_mnist_clip` / :meth:`MovingMNISTDataset.clip`. The standard test file
``mnist_test_seq.npy`` (``path=``) has no labels: ``y = 0`` and ``num_classes = 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.data.clips import (
    area_downsample,
    bouncing_trajectories,
    clip_rng,
    uint8_clip_to_model,
)
from gan_lab.data.mnist import load_mnist

DIGIT_SIZE = 28
STEP_LENGTH = 0.1  # per frame, as a fraction of the free range canvas - digit (the paper's)
SPLIT_STREAMS = {"train": 0, "val": 1}


def default_speed(canvas_size: int) -> float:
    """The paper's speed in px per frame: 0.1 of the free range (3.6 on a 64x64 canvas)."""
    return STEP_LENGTH * (canvas_size - DIGIT_SIZE)


@dataclass(frozen=True)
class MovingMNISTClip:
    """One generated clip and how it was made (``T`` frames, ``D`` digits).

    Attributes:
        frames: uint8 ``(T, H, W)``, black background, digits in [0, 255].
        positions: float64 ``(T, D, 2)``: top-left ``(y, x)`` of each digit in pixels, in
            ``[0, canvas - 28]``; a digit is drawn at ``floor(position)``.
        velocities: float64 ``(T, D, 2)``: px per frame after frame ``t``'s bounce, so
            ``positions[t + 1] = clamp(positions[t] + velocities[t])``; norm = ``speed``.
        labels: int64 ``(D,)``: the digits' classes (0-9).
        digit_indices: int64 ``(D,)``: the digits' indices in the pool they came from.
    """

    frames: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    labels: np.ndarray
    digit_indices: np.ndarray

    @property
    def directions(self) -> np.ndarray:
        """float64 ``(T, D)``: the angle ``atan2(v_y, v_x)`` of each digit's velocity."""
        return np.arctan2(self.velocities[..., 0], self.velocities[..., 1])


def render_max(
    sprites: np.ndarray, top_left: np.ndarray, canvas_size: int
) -> np.ndarray:
    """Draw ``sprites`` ``(D, h, w)`` uint8 at integer ``top_left`` ``(T, D, 2)``, merging by max.

    Returns uint8 ``(T, canvas_size, canvas_size)``; every sprite must fit in the canvas.
    """
    frames_n, n = top_left.shape[:2]
    _, h, w = sprites.shape
    out = np.zeros((frames_n, canvas_size, canvas_size), dtype=np.uint8)
    for t in range(frames_n):
        for d in range(n):
            r, c = top_left[t, d]
            window = out[t, r : r + h, c : c + w]
            np.maximum(window, sprites[d], out=window)
    return out


def moving_mnist_clip(
    digits: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator | int | Sequence[int],
    num_digits: int = 2,
    frames: int = 20,
    canvas_size: int = 64,
    speed: float | None = None,
) -> MovingMNISTClip:
    """One Moving MNIST clip, with its digits' labels and trajectories.

    Args:
        digits: the digit pool, uint8 ``(N, 28, 28)`` (e.g. ``load_mnist("train")[0]``).
        labels: the pool's classes ``(N,)``.
        rng: a numpy Generator or a seed for one; the clip is a function of it alone.
            Draws, in order: the digits (distinct), their start positions, their directions.
        num_digits: digits per clip ``D``.
        frames: number of frames ``T``; the first ``k`` frames do not depend on ``frames``.
        canvas_size: the square canvas side ``H = W``.
        speed: px per frame; ``None`` = 0.1 * (canvas_size - 28), 3.6 on 64x64.
    """
    digits = np.asarray(digits)
    if digits.ndim != 3 or digits.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE):
        raise ValueError(f"digits must be (N, 28, 28), got {digits.shape}")
    if digits.dtype != np.uint8:
        raise ValueError(f"digits must be uint8, got {digits.dtype}")
    if canvas_size < DIGIT_SIZE:
        raise ValueError(f"canvas_size must be >= {DIGIT_SIZE}, got {canvas_size}")
    if not 1 <= num_digits <= len(digits):
        raise ValueError(f"num_digits must be in [1, {len(digits)}], got {num_digits}")
    rng = np.random.default_rng(rng)
    speed = default_speed(canvas_size) if speed is None else float(speed)
    index = rng.choice(len(digits), size=num_digits, replace=False)
    positions, velocities = bouncing_trajectories(
        rng, num_digits, frames, canvas_size - DIGIT_SIZE, speed
    )
    video = render_max(digits[index], positions.astype(np.int64), canvas_size)
    return MovingMNISTClip(
        frames=video,
        positions=positions,
        velocities=velocities,
        labels=np.asarray(labels)[index].astype(np.int64),
        digit_indices=index.astype(np.int64),
    )


def downsampling_factor(size: int, resolution: int | None) -> int:
    """``size / resolution`` (1 for ``None``), or a ValueError if it is not a whole number."""
    if resolution is None:
        return 1
    if resolution < 1 or size % resolution:
        raise ValueError(
            f"resolution must divide the frame size {size} (frames are averaged over "
            f"blocks of pixels), got {resolution}"
        )
    return size // resolution


class MovingMNISTDataset(Dataset):
    """Clips generated on the fly: item ``i`` is ``(x (1, T, H, W) in [-1, 1], y)``.

    With ``resolution``, the canvas is area-averaged down to ``resolution x resolution``.

    Item ``i`` is a function of ``(seed, split, i)``; any ``i >= 0`` is valid (training reads
    the endless stream in order), ``len`` is the number of clips an evaluation draws its real
    samples from. :meth:`clip` gives the metadata.
    """

    def __init__(
        self,
        digits: np.ndarray,
        labels: np.ndarray,
        length: int,
        seed: int = 0,
        stream: int = 0,
        num_digits: int = 2,
        frames: int = 20,
        canvas_size: int = 64,
        speed: float | None = None,
        resolution: int | None = None,
    ) -> None:
        self.digits = np.ascontiguousarray(digits, dtype=np.uint8)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.length = length
        self.seed = seed
        self.stream = stream
        self.num_digits = num_digits
        self.frames = frames
        self.canvas_size = canvas_size
        self.speed = default_speed(canvas_size) if speed is None else float(speed)
        self.factor = downsampling_factor(canvas_size, resolution)

    def __len__(self) -> int:
        return self.length

    def clip(self, index: int) -> MovingMNISTClip:
        """Clip ``index`` with its metadata (labels, positions, velocities)."""
        return moving_mnist_clip(
            self.digits,
            self.labels,
            clip_rng(self.seed, self.stream, index),
            num_digits=self.num_digits,
            frames=self.frames,
            canvas_size=self.canvas_size,
            speed=self.speed,
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        clip = self.clip(index)
        frames = clip.frames if self.factor == 1 else area_downsample(clip.frames, self.factor)
        x = uint8_clip_to_model(frames[None])
        return x, torch.tensor(clip.labels[0])


def read_moving_mnist_file(path: str | Path) -> np.ndarray:
    """Open ``mnist_test_seq.npy`` (memory-mapped): uint8 ``(T, N, H, W)``, time first.

    Returns the array as stored; :class:`MovingMNISTFileDataset` transposes per clip.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Moving MNIST file not found: {path}")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        raise ValueError(f"{path} is not a readable .npy file: {err}") from err
    if array.ndim != 4 or array.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected uint8 (T, N, H, W) like mnist_test_seq.npy (20, 10000, 64, 64), "
            f"got {array.dtype} {array.shape}"
        )
    return array


class MovingMNISTFileDataset(Dataset):
    """Clips of a time-first file: item ``n`` is ``(x (1, T, H, W) in [-1, 1], 0)``.

    The first ``length`` clips of the file (all of them when ``length`` is ``None`` or larger).

    ``x[0, t]`` is ``file[t, n]`` for the first ``frames`` frames. The file is opened lazily
    (memory-mapped) in each process, so DataLoader workers do not copy it.
    """

    def __init__(
        self, path: str | Path, frames: int, length: int | None = None,
        resolution: int | None = None,
    ) -> None:
        self.path = Path(path).expanduser()
        array = read_moving_mnist_file(self.path)
        if frames > array.shape[0]:
            raise ValueError(
                f"{self.path} has {array.shape[0]} frames per clip, fewer than frames={frames}"
            )
        if length is not None and length < 1:
            raise ValueError(f"length must be >= 1, got {length}")
        self.frames = frames
        self.length = array.shape[1] if length is None else min(length, array.shape[1])
        self.factor = downsampling_factor(array.shape[2], resolution)
        self.frame_size = (array.shape[2] // self.factor, array.shape[3] // self.factor)
        self._array: np.ndarray | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_array": None}

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(f"clip {index} out of range [0, {self.length})")
        if self._array is None:
            self._array = read_moving_mnist_file(self.path)
        clip = self._array[: self.frames, index]  # (T, H, W), a strided view of the file
        frames = clip if self.factor == 1 else area_downsample(clip, self.factor)
        return uint8_clip_to_model(frames[None]), torch.tensor(0)


class MovingMNISTDataModule(GANDataModule):
    """Moving MNIST as ``(x (B, 1, T, H, W) in [-1, 1], y (B,))`` batches.

    Generated on the fly (default) from the digits of ``split``, or read from ``path``
    (``mnist_test_seq.npy``: the first ``frames`` frames of each clip; the generator options
    are then unused).

    Args:
        path: a time-first uint8 ``(T, N, H, W)`` .npy file, or ``None`` to generate.
        split: digit pool, "train" or "val" (disjoint); also separates the random streams.
        mnist_root: folder with the full MNIST IDX files; ``None`` = the shipped digits.
        num_digits, frames, canvas_size, speed: see :func:`moving_mnist_clip`.
        resolution: frame size of the clips returned, averaged over blocks of the canvas (or
            the file's frames): 32 gives 64x64 clips at half resolution with the same motion;
            ``None`` keeps the canvas size.
        length: generated: the clips an evaluation draws its real samples from (training reads
            the endless stream of new clips); from a file: its first ``length`` clips (all of
            them when ``None`` or larger).

    Attributes:
        spec: ``DataSpec((1, frames, size, size), num_classes=10)`` (``size`` =
            ``resolution`` or ``canvas_size``) when
            generated (``y`` = class of the first digit), ``num_classes=0`` from a file.
        speed: the step length in px per frame.
        dataset: a :class:`MovingMNISTDataset` or :class:`MovingMNISTFileDataset` (after
            ``setup``).
    """

    def __init__(
        self,
        path: str | None = None,
        split: str = "train",
        mnist_root: str | None = None,
        num_digits: int = 2,
        frames: int = 20,
        canvas_size: int = 64,
        speed: float | None = None,
        resolution: int | None = None,
        length: int | None = 10_000,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        if split not in SPLIT_STREAMS:
            raise ValueError(
                f"Moving MNIST split must be one of {list(SPLIT_STREAMS)}, got {split!r}"
            )
        if frames < 1:
            raise ValueError(f"frames must be >= 1, got {frames}")
        if canvas_size < DIGIT_SIZE:
            raise ValueError(f"canvas_size must be >= {DIGIT_SIZE}, got {canvas_size}")
        if num_digits < 1:
            raise ValueError(f"num_digits must be >= 1, got {num_digits}")
        if speed is not None and speed < 0:
            raise ValueError(f"speed must be >= 0 px per frame, got {speed}")
        self.path = path
        self.split = split
        self.mnist_root = mnist_root
        self.num_digits = num_digits
        self.frames = frames
        self.canvas_size = canvas_size
        self.speed = default_speed(canvas_size) if speed is None else float(speed)
        self.resolution = resolution
        self.length = length
        self.dataset: MovingMNISTDataset | MovingMNISTFileDataset | None = None
        if path is not None:
            self.dataset = MovingMNISTFileDataset(path, frames, length, resolution)
            self.spec = DataSpec(shape=(1, frames, *self.dataset.frame_size), num_classes=0)
        else:
            if length is None or length < 1:
                raise ValueError(f"data.length must be >= 1, got {length}")
            size = canvas_size // downsampling_factor(canvas_size, resolution)
            self.spec = DataSpec(shape=(1, frames, size, size), num_classes=10)

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is not None:
            return
        digits, labels = load_mnist(self.split, self.mnist_root)
        self.dataset = MovingMNISTDataset(
            digits.numpy(),
            labels.numpy(),
            length=self.length,
            seed=self.seed,
            stream=SPLIT_STREAMS[self.split],
            num_digits=self.num_digits,
            frames=self.frames,
            canvas_size=self.canvas_size,
            speed=self.speed,
            resolution=self.resolution,
        )

    def train_dataloader(self) -> DataLoader:
        if self.dataset is None:
            self.setup("fit")
        if isinstance(self.dataset, MovingMNISTFileDataset):
            return self.training_loader(self.dataset, f"{self.path} has {len(self.dataset)} clips")
        return self.training_loader(self.dataset, "Moving MNIST (generated)", shuffle=False)
