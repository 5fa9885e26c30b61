"""Pieces shared by the synthetic video data sets (Moving MNIST, bouncing shapes).

* :func:`bouncing_trajectories`: the bouncing motion of Srivastava, Mansimov and Salakhutdinov
  (2015, arXiv:1502.04681), as in their data generator: a uniform start, a uniform direction,
  a fixed speed; a coordinate that leaves ``[0, extent]`` is clamped to the edge and its
  velocity component reversed.
* :func:`clip_rng`: the random stream of clip ``index`` of a data set, so any clip can be
  regenerated from ``(seed, stream, index)`` alone (in any DataLoader worker, in any order).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def clip_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """The generator of clip ``index`` in stream ``stream`` (e.g. 0 = train, 1 = val)."""
    if index < 0:
        raise IndexError(f"clip index must be >= 0, got {index}")
    return np.random.default_rng([int(seed), int(stream), int(index)])


def uint8_clip_to_model(frames: np.ndarray) -> torch.Tensor:
    """A uint8 numpy clip (any shape) -> float32 tensor in [-1, 1] (0 -> -1, 255 -> 1).

    Computed with numpy: a per-clip conversion is too small to gain from torch's intra-op
    threads, which cost milliseconds per call when the cores are busy.
    """
    return torch.from_numpy(frames.astype(np.float32) / np.float32(127.5) - np.float32(1.0))


def area_downsample(frames: np.ndarray, factor: int) -> np.ndarray:
    """Frames ``(..., H, W)`` averaged over ``factor x factor`` blocks: float32
    ``(..., H / factor, W / factor)`` on the same scale (a uint8 clip stays in [0, 255]).

    Summed as ``factor²`` strided slices, exact for uint8 frames (integer sums below 2^24);
    an order of magnitude faster than numpy's ``mean`` over the reshaped block axes.
    """
    *lead, h, w = frames.shape
    if h % factor or w % factor:
        raise ValueError(f"frames of {h}x{w} cannot be downsampled by {factor}")
    x = frames.astype(np.float32, copy=False)
    total = np.zeros((*lead, h // factor, w // factor), dtype=np.float32)
    for i in range(factor):
        for j in range(factor):
            total += x[..., i::factor, j::factor]
    return total / np.float32(factor * factor)


def bouncing_trajectories(
    rng: np.random.Generator, n: int, frames: int, extent: float | np.ndarray, speed: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities of ``n`` objects bouncing in the box ``[0, extent]^2``.

    As in Srivastava et al.'s generator, each object starts at a uniform position in the box
    and moves in a uniform direction ``theta`` with velocity ``speed * (sin theta, cos theta)``
    (``(y, x)`` order); every frame first takes one step, then bounces: a coordinate ``<= 0``
    or ``>= extent`` is clamped to that edge and its velocity component reversed. Frame 0 is
    therefore one step away from the drawn start. All random numbers are drawn before the
    steps, so the first ``k`` frames do not depend on ``frames``.

    Args:
        rng: the random stream (positions drawn first, then directions).
        n: number of objects.
        frames: number of frames ``T``.
        extent: the largest coordinate of an object's top-left corner (canvas minus object
            size), one for all objects or one per object ``(n,)``.
        speed: step length in pixels per frame.

    Returns:
        ``positions`` ``(T, n, 2)`` float64: top-left ``(y, x)`` in pixels, within
        ``[0, extent]``; ``velocities`` ``(T, n, 2)`` float64 in pixels per frame: the velocity
        after frame ``t``'s bounce, so ``positions[t + 1] = clamp(positions[t] +
        velocities[t])``; its norm is always ``speed``.
    """
    extent = np.broadcast_to(np.asarray(extent, dtype=np.float64), (n,))[:, None]
    if (extent < 0).any():
        raise ValueError(f"extent must be >= 0 (object larger than the canvas?), got {extent}")
    position = rng.random((n, 2)) * extent
    theta = rng.random(n) * 2 * math.pi
    velocity = speed * np.stack([np.sin(theta), np.cos(theta)], axis=1)
    positions = np.empty((frames, n, 2))
    velocities = np.empty((frames, n, 2))
    for t in range(frames):
        position += velocity
        low, high = position <= 0, position >= extent
        position = np.clip(position, 0, extent)
        velocity = np.where(low | high, -velocity, velocity)
        positions[t], velocities[t] = position, velocity
    return positions, velocities
