"""Decoding a clip (frames at given indices) from a video file with PyAV or from a frame folder.

Decoding seeks to the key frame before the clip (frames located by timestamp) when the clip
starts :data:`SEEK_MIN_FRAMES` or more frames into a file; GIFs and clips near the start are
decoded from the first frame, counting frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gan_lab.data.image_folder import load_image
from gan_lab.data.video_files import frame_files

if TYPE_CHECKING:  # PyAV is imported where a video is decoded (~0.2 s of start-up otherwise)
    import av
    from av.video.reformatter import VideoReformatter

SEEK_MIN_FRAMES = 32  # seek when a clip starts this far into a file; else decode from frame 0


class ClipDecodeError(RuntimeError):
    """A clip could not be decoded; ``frames_seen`` frames of the video were found."""

    def __init__(self, message: str, frames_seen: int | None = None) -> None:
        super().__init__(message)
        self.frames_seen = frames_seen


def _frame_array(
    reformatter: VideoReformatter, frame: av.VideoFrame, size: tuple[int, int], channels: int
) -> np.ndarray:
    """A decoded frame resized to ``size`` (w, h) with Lanczos, as uint8 ``(h, w, C)``.

    One ``reformatter`` for all frames of a clip keeps its scaling context (half the cost).
    """
    array = reformatter.reformat(
        frame,
        width=size[0],
        height=size[1],
        format="rgb24" if channels == 3 else "gray",
        interpolation="LANCZOS",
    ).to_ndarray()
    return array if channels == 3 else array[..., None]


def decode_file_clip(
    path: Path, indices: np.ndarray, fps: float | None, size: tuple[int, int], channels: int
) -> np.ndarray:
    """Frames ``indices`` (increasing) of a video file, resized to ``size``: ``(T, h, w, C)``.

    Seeks to the key frame before ``indices[0]`` when it is at least :data:`SEEK_MIN_FRAMES`
    into the file (the frame index then comes from each frame's timestamp and ``fps``);
    otherwise decodes from the start, counting frames.
    """
    import av
    from av.video.reformatter import VideoReformatter

    wanted = [int(i) for i in indices]
    out: list[np.ndarray] = []
    reformatter = VideoReformatter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start_pts = stream.start_time or 0
        by_time = (
            wanted[0] >= SEEK_MIN_FRAMES
            and fps is not None
            and container.format.name != "gif"
            and stream.time_base is not None
        )
        if by_time:
            target = start_pts + int((wanted[0] - 0.5) / fps / stream.time_base)
            container.seek(max(target, start_pts), stream=stream, backward=True)
        count = -1
        for frame in container.decode(stream):
            count += 1
            k = count
            if by_time:
                if frame.pts is None:
                    raise ClipDecodeError(f"{path}: frames without timestamps")
                k = round(float((frame.pts - start_pts) * stream.time_base) * fps)
            if k < wanted[len(out)]:
                continue
            array = _frame_array(reformatter, frame, size, channels)
            while len(out) < len(wanted) and wanted[len(out)] <= k:
                out.append(array)
            if len(out) == len(wanted):
                return np.stack(out)
    if by_time:
        raise ClipDecodeError(f"{path}: the video ended before frame {wanted[-1]}")
    raise ClipDecodeError(
        f"{path}: {count + 1} frames decoded, needed frame {wanted[-1]}", frames_seen=count + 1
    )


def decode_frame_folder_clip(
    folder: Path, indices: np.ndarray, resolution: int, channels: int
) -> np.ndarray:
    """Frames ``indices`` of a frame folder, resized and centre-cropped: ``(T, R, R, C)``."""
    frames = frame_files(folder)
    if indices[-1] >= len(frames):
        raise ClipDecodeError(
            f"{folder}: {len(frames)} frames, needed frame {indices[-1]}", len(frames)
        )
    return np.stack([load_image(frames[i], resolution, channels) for i in indices]).transpose(
        0, 2, 3, 1
    )


