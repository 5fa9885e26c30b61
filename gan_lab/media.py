"""Writing samples to files: image grids, video grids (GIF/MP4), 2-D scatter plots, raw arrays.

All functions take tensors in model space [-1, 1] (see :mod:`gan_lab`) and the data's
:class:`~gan_lab.data.base.DataSpec`. Videos are encoded with PyAV alone: GIF with a palette
computed from the clip (exact for up to 256 colours, greyscale stays greyscale), MP4 with
libx264 in yuv420p (what browsers and W&B play).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from gan_lab.data.base import DataSpec

if TYPE_CHECKING:  # PyAV is imported where a video is written (~0.2 s of start-up otherwise)
    import av

VIDEO_FPS = 8  # frames per second of written sample videos


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats to uint8 [0, 255] (clamped)."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def _tile(u: np.ndarray, nrow: int | None, padding: int) -> np.ndarray:
    """uint8 ``(N, *lead, H, W, C)`` → ``(*lead, H', W', C)``: ``nrow`` tiles a row, row-major,
    ``padding`` black pixels around every tile."""
    n, *lead, h, w, c = u.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    p = padding
    cells = np.zeros((rows * nrow, *lead, h + p, w + p, c), dtype=np.uint8)
    cells[:n, ..., p:, p:, :] = u
    cells = cells.reshape(rows, nrow, *lead, h + p, w + p, c)
    k = len(lead)
    # (rows, nrow, *lead, h+p, w+p, c) -> (*lead, rows, h+p, nrow, w+p, c)
    order = (*range(2, 2 + k), 0, 2 + k, 1, 3 + k, 4 + k)
    grid = cells.transpose(order).reshape(*lead, rows * (h + p), nrow * (w + p), c)
    pad = [(0, 0)] * k + [(0, p), (0, p), (0, 0)]
    return np.pad(grid, pad)


def image_grid(x: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """``(N, C, H, W)`` in [-1, 1] → one ``(H', W', C)`` uint8 grid, ``nrow`` images a row."""
    if x.ndim != 4:
        raise ValueError(f"image_grid expects (N, C, H, W), got shape {tuple(x.shape)}")
    return _tile(to_uint8(x.cpu()).permute(0, 2, 3, 1).numpy(), nrow, padding)


def video_grid(x: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """``(N, C, T, H, W)`` in [-1, 1] → ``(T, H', W', C)`` uint8: frame ``t`` is the
    :func:`image_grid` of the clips' frames ``t``."""
    if x.ndim != 5:
        raise ValueError(f"video_grid expects (N, C, T, H, W), got shape {tuple(x.shape)}")
    return _tile(to_uint8(x.cpu()).permute(0, 2, 3, 4, 1).numpy(), nrow, padding)


def filmstrip(x: torch.Tensor, padding: int = 2) -> np.ndarray:
    """``(N, C, T, H, W)`` in [-1, 1] → one ``(H', W', C)`` uint8 image: a clip per row."""
    n, c, t, h, w = x.shape
    return image_grid(x.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w), nrow=t, padding=padding)


def _frame_rate(fps: float) -> Fraction:
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def _check_frames(frames: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or frames.dtype != np.uint8:
        raise ValueError(
            f"video frames must be uint8 (T, H, W, C) with C = 1 or 3, got {frames.dtype} "
            f"{frames.shape}"
        )


def _palette_frames(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RGB ``(T, H, W, 3)`` → indices ``(T, H, W)`` and one ARGB palette ``(256, 4)``.

    One palette for the whole clip, so colours do not flicker between frames: its own colours
    when it has at most 256 (exact), else an octree quantization.
    """
    t, h, w, _ = frames.shape
    stack = Image.fromarray(np.ascontiguousarray(frames).reshape(t * h, w, 3))
    colors = stack.getcolors(256)
    if colors is None:
        quantized = stack.quantize(256, Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    else:
        exact = Image.new("P", (1, 1))
        exact.putpalette([v for _, rgb in colors for v in rgb])
        quantized = stack.quantize(palette=exact, dither=Image.Dither.NONE)
    rgb = np.array(quantized.getpalette()[: 3 * 256], dtype=np.uint8).reshape(-1, 3)
    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[:, 0] = 255
    palette[: len(rgb), 1:] = rgb
    return np.asarray(quantized).reshape(t, h, w), palette


def _encode(
    frames: list[av.VideoFrame], path: Path, container: str, codec: str, pix_fmt: str,
    fps: float, options: dict[str, str] | None = None,
) -> Path:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=_frame_rate(fps), options=options or {})
        stream.width, stream.height = frames[0].width, frames[0].height
        stream.pix_fmt = pix_fmt
        for i, frame in enumerate(frames):
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def write_gif(frames: np.ndarray, path: str | Path, fps: float = VIDEO_FPS) -> Path:
    """Write uint8 ``(T, H, W, C)`` frames (C = 1 or 3) as a looping GIF.

    Greyscale is written as greyscale (exact); RGB through one palette for the whole clip.
    GIF delays are whole centiseconds, so players round ``1 / fps`` per frame.
    """
    import av

    _check_frames(frames)
    if frames.shape[-1] == 1:
        video = [av.VideoFrame.from_ndarray(f[..., 0], format="gray") for f in frames]
        return _encode(video, Path(path), "gif", "gif", "gray", fps)
    indices, palette = _palette_frames(frames)
    video = [av.VideoFrame.from_ndarray((i, palette), format="pal8") for i in indices]
    return _encode(video, Path(path), "gif", "gif", "pal8", fps)


def write_mp4(
    frames: np.ndarray, path: str | Path, fps: float = VIDEO_FPS, crf: int = 18
) -> Path:
    """Write uint8 ``(T, H, W, C)`` frames as H.264 MP4 (libx264, yuv420p, quality ``crf``).

    yuv420p needs even sides: an odd height or width gets one black row or column.
    """
    import av

    _check_frames(frames)
    t, h, w, c = frames.shape
    rgb = np.zeros((t, h + h % 2, w + w % 2, 3), dtype=np.uint8)
    rgb[:, :h, :w] = frames  # greyscale broadcasts to the three channels
    video = [av.VideoFrame.from_ndarray(f, format="rgb24") for f in rgb]
    options = {"crf": str(crf), "movflags": "+faststart"}
    return _encode(video, Path(path), "mp4", "libx264", "yuv420p", fps, options)


VIDEO_WRITERS = {".gif": write_gif, ".mp4": write_mp4}
#: The suffixes of :func:`write_samples`.
SAMPLE_FORMATS = {".npy", ".png", *VIDEO_WRITERS}


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
    x: torch.Tensor, spec: DataSpec, path: str | Path, nrow: int | None = None,
    fps: float = VIDEO_FPS,
) -> Path:
    """Write samples ``(N, *spec.shape)`` (model space) to ``path``, by its suffix.

    ``.npy``: the raw samples in data space (``(N, 2)`` for 2-D data, ``(N, C, H, W)`` for
    images, ``(N, C, T, H, W)`` for videos). ``.png``: an image grid, a scatter plot for 2-D
    data, or for videos a filmstrip (one clip per row). ``.gif`` / ``.mp4``: for videos, a
    grid of clips (``nrow`` a row) playing at ``fps``.
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
    if suffix == ".png" and spec.modality == "video":
        return save_png(filmstrip(x), path)
    if suffix in VIDEO_WRITERS and spec.modality == "video":
        return VIDEO_WRITERS[suffix](video_grid(x, nrow), path, fps=fps)
    raise ValueError(
        f"cannot write {spec.modality} samples of shape {spec.shape} to '{path.name}': "
        "use .npy, .png for images, 2-D points and video filmstrips, or .gif / .mp4 for videos"
    )
