"""Finding and probing the videos of a folder tree, and the cached index of what was found.

A *video* is a file with a video extension (mp4, avi, webm, gif, mov, mkv, m4v) or a *frame
folder*: a folder holding PNG/JPEG frames, in natural name order (``f2`` before ``f10``). Every
video is probed once (opened, its first frame decoded, its frames counted); the results are
cached in a JSON index keyed by path with each file's size and mtime (a frame folder's mtime and
frame count), so that only changed or new videos are probed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from gan_lab.data.image_folder import entry_is
from gan_lab.files import atomic_write_text

if TYPE_CHECKING:  # PyAV is imported where a video is decoded (~0.2 s of start-up otherwise)
    import av

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".gif", ".mov", ".mkv", ".m4v")
FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg")
INDEX_FILE = ".gan_lab_video_index.json"
INDEX_VERSION = 1


@dataclass
class VideoInfo:
    """What the probe found out about one video (an entry of the cached index).

    Attributes:
        path: relative to the root, with ``/`` separators.
        kind: ``"file"`` or ``"frames"`` (a frame folder).
        signature: ``[mtime_ns, size]`` of a file, ``[mtime_ns, frame count]`` of a folder;
            the cached entry is reused while it is unchanged.
        num_frames: frames in the video (0 when unreadable).
        fps: frames per second (``None`` for frame folders and unknown rates).
        width, height: frame size in pixels.
        error: why the video cannot be read, or ``None``.
    """

    path: str
    kind: str
    signature: list[int]
    num_frames: int = 0
    fps: float | None = None
    width: int = 0
    height: int = 0
    error: str | None = None


def natural_key(name: str) -> list:
    """Sort key that orders numbers by value: ``f2`` < ``f10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def has_extension(name: str, extensions: tuple[str, ...]) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions


def frame_files(folder: Path) -> list[Path]:
    """The frames of a frame folder (PNG/JPEG files directly in it), in natural order."""
    names = [
        e.name
        for e in os.scandir(folder)
        if entry_is(e, "file") and has_extension(e.name, FRAME_EXTENSIONS)
    ]
    return [folder / n for n in sorted(names, key=natural_key)]


def is_frame_folder(folder: Path) -> bool:
    return any(
        entry_is(e, "file") and has_extension(e.name, FRAME_EXTENSIONS) for e in os.scandir(folder)
    )


def find_videos(folder: Path, extensions: tuple[str, ...]) -> list[Path]:
    """Video files and frame folders under ``folder`` (recursive), sorted by path.

    A folder with frames in it is one video; its sub-folders are not searched.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if here != folder and any(has_extension(f, FRAME_EXTENSIONS) for f in filenames):
            found.append(here)
            dirnames[:] = []
        found += [here / f for f in filenames if has_extension(f, extensions)]
    return sorted(found, key=lambda p: [natural_key(part) for part in p.parts])


def signature(path: Path) -> list[int]:
    """``[mtime_ns, size]`` of a file, ``[mtime_ns, frame count]`` of a frame folder."""
    st = path.stat()
    if path.is_dir():
        return [st.st_mtime_ns, len(frame_files(path))]
    return [st.st_mtime_ns, st.st_size]


def _frame_rate(stream: av.video.stream.VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else None


def probe_video(path: Path) -> tuple[int, float | None, int, int]:
    """``(num_frames, fps, width, height)`` of a video file; raises if it cannot be decoded.

    The first frame is decoded (so a file whose header parses but whose data does not is
    caught); the frames are counted from the container's header, or by demuxing (without
    decoding) when the header does not say.
    """
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        first = next(container.decode(stream), None)
        if first is None:
            raise ValueError("no decodable frame")
        num_frames = stream.frames
        fps = _frame_rate(stream)
    if num_frames <= 0:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            num_frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
    return num_frames, fps, first.width, first.height


def probe_frame_folder(folder: Path) -> tuple[int, float | None, int, int]:
    """``(num_frames, None, width, height)`` of a frame folder (size of its first frame)."""
    frames = frame_files(folder)
    with Image.open(frames[0]) as im:
        width, height = im.size
    return len(frames), None, width, height


def probe(root: Path, path: Path) -> VideoInfo:
    """Probe one video; never raises (the error is recorded in the result)."""
    kind = "frames" if path.is_dir() else "file"
    info = VideoInfo(path=path.relative_to(root).as_posix(), kind=kind, signature=[0, 0])
    try:
        info.signature = signature(path)
        if kind == "file" and info.signature[1] == 0:
            raise ValueError("empty file")
        prober = probe_frame_folder if kind == "frames" else probe_video
        info.num_frames, info.fps, info.width, info.height = prober(path)
    except Exception as err:  # corrupt files raise many kinds of errors
        info.error = f"{type(err).__name__}: {err}".strip()[:200]
    return info


def index_path(root: Path, cache_dir: str | None) -> Path:
    """Where the index of ``root`` is cached: in ``root``, or in ``cache_dir`` by root hash."""
    if cache_dir is None:
        return root / INDEX_FILE
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return Path(cache_dir).expanduser() / f"video_index_{digest}.json"


def load_index(path: Path) -> dict[str, VideoInfo]:
    """Cached entries by relative path; empty when missing, unreadable or of another version."""
    try:
        data = json.loads(path.read_text())
        if data.get("version") != INDEX_VERSION:
            return {}
        return {e["path"]: VideoInfo(**e) for e in data["videos"]}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def save_index(path: Path, root: Path, infos: list[VideoInfo]) -> None:
    """Write the index atomically (a temporary file renamed into place)."""
    data = {"version": INDEX_VERSION, "root": str(root), "videos": [asdict(i) for i in infos]}
    atomic_write_text(json.dumps(data, indent=0), path)


