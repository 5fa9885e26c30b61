"""Video clips from any folder tree of video files or frame folders, decoded with PyAV.

A *video* is a file with a video extension (mp4, avi, webm, gif, mov, mkv, m4v) or a *frame
folder*: a folder holding PNG/JPEG frames, in natural name order (``f2`` before ``f10``). As
in the data contract of StyleGAN-V (Skorokhodov, Tulyakov and Elhoseiny, 2022,
arXiv:2112.14683) both forms are accepted and fps is kept as metadata.

Labels (the UCF-101 layout): when ``root`` has first-level sub-folders that are not frame
folders, each is a class (sorted by name, label = index) and its videos are found recursively;
videos directly in ``root`` are then ignored, with one warning. Otherwise every video has
label 0 and ``num_classes`` is 0.

A clip is ``frames`` frames taken every ``stride`` frames, starting at frame 0
(``offset="first"``) or at a uniform random frame where the whole clip fits
(``offset="random"``, drawn from ``(seed, video, position in the training stream)``, so a resumed
run reads the same clips). Frames are resized (shorter side to ``resolution``, Lanczos)
and centre-cropped to ``resolution`` squares, like :mod:`gan_lab.data.image_folder`. A pass over
the data set is one clip per video.

Robustness: at ``setup`` every video is probed (opened, its first frame decoded, its frames
counted); corrupt, empty and too short videos are skipped, counted and reported in one warning.
The probe results are cached in a JSON index (``<root>/.gan_lab_video_index.json``, or a file in
``cache_dir``) keyed by path with each file's size and mtime (a frame folder's mtime and frame
count), so a large folder is probed once; changed or new videos are probed again. If a clip
still fails to decode during training, the same video is tried from its first frame, then the
next videos in order; failures are counted (``VideoClipDataset.failures``) and logged once per
video, and training goes on.

Decoding seeks to the key frame before the clip (frames located by timestamp) when the clip
starts :data:`SEEK_MIN_FRAMES` or more frames into a file; GIFs and clips near the start are
decoded from the first frame, counting frames.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.data.clips import uint8_clip_to_model
from gan_lab.data.image_folder import (
    entry_is,
    files_by_class,
    folder_root,
    load_image,
    normalize_extensions,
    shorter_side_size,
    warn_ignored,
)
from gan_lab.files import atomic_write_text

if TYPE_CHECKING:  # PyAV is imported where a video is decoded (~0.2 s of start-up otherwise)
    import av
    from av.video.reformatter import VideoReformatter

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".gif", ".mov", ".mkv", ".m4v")
FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg")
INDEX_FILE = ".gan_lab_video_index.json"
INDEX_VERSION = 1
SEEK_MIN_FRAMES = 32  # seek when a clip starts this far into a file; else decode from frame 0
OFFSETS = ("random", "first")


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


def _has_extension(name: str, extensions: tuple[str, ...]) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions


def frame_files(folder: Path) -> list[Path]:
    """The frames of a frame folder (PNG/JPEG files directly in it), in natural order."""
    names = [
        e.name
        for e in os.scandir(folder)
        if entry_is(e, "file") and _has_extension(e.name, FRAME_EXTENSIONS)
    ]
    return [folder / n for n in sorted(names, key=natural_key)]


def is_frame_folder(folder: Path) -> bool:
    return any(
        entry_is(e, "file") and _has_extension(e.name, FRAME_EXTENSIONS) for e in os.scandir(folder)
    )


def find_videos(folder: Path, extensions: tuple[str, ...]) -> list[Path]:
    """Video files and frame folders under ``folder`` (recursive), sorted by path.

    A folder with frames in it is one video; its sub-folders are not searched.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if here != folder and any(_has_extension(f, FRAME_EXTENSIONS) for f in filenames):
            found.append(here)
            dirnames[:] = []
        found += [here / f for f in filenames if _has_extension(f, extensions)]
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


class VideoClipDataset(Dataset):
    """One clip per video: item ``i`` (or ``(i, position)``, the sample's place in the training
    stream) is ``(x (C, T, R, R) in [-1, 1], label)``; a random offset is drawn from
    ``(seed, i, position)``.

    Attributes:
        failures: clips that failed to decode in this process (each replaced by another).
    """

    def __init__(
        self,
        root: Path,
        videos: list[VideoInfo],
        labels: list[int],
        frames: int,
        stride: int,
        offset: str,
        resolution: int,
        channels: int,
        seed: int = 0,
    ) -> None:
        self.seed = seed
        self.root = root
        self.videos = videos
        self.labels = labels
        self.frames = frames
        self.stride = stride
        self.offset = offset
        self.resolution = resolution
        self.channels = channels
        self.span = (frames - 1) * stride + 1
        self.num_frames = [v.num_frames for v in videos]  # lowered when a video ends early
        self.broken: set[int] = set()
        self.reported: set[int] = set()
        self.failures = 0

    def __len__(self) -> int:
        return len(self.videos)

    def clip_start(self, i: int, position: int = -1) -> int:
        room = self.num_frames[i] - self.span
        if self.offset == "first" or room <= 0:
            return 0
        rng = np.random.default_rng([self.seed, i, position + 1])
        return int(rng.integers(room + 1))

    def read_clip(self, i: int, start: int) -> np.ndarray:
        """Clip of video ``i`` from frame ``start``: uint8 ``(C, T, R, R)``."""
        info = self.videos[i]
        path = self.root / info.path
        indices = start + self.stride * np.arange(self.frames)
        if info.kind == "frames":
            video = decode_frame_folder_clip(path, indices, self.resolution, self.channels)
        else:
            w, h = shorter_side_size(info.width, info.height, self.resolution)
            video = decode_file_clip(path, indices, info.fps, (w, h), self.channels)
            top, left = (h - self.resolution) // 2, (w - self.resolution) // 2
            video = video[:, top : top + self.resolution, left : left + self.resolution]
        return np.ascontiguousarray(video.transpose(3, 0, 1, 2))

    def _failed(self, i: int, start: int, err: Exception) -> None:
        """Record a failed decode: a video failing from frame 0 is dropped; one failing
        further in keeps only the frames that decoded (or only its first clip)."""
        self.failures += 1
        if start == 0:
            self.broken.add(i)
        else:
            seen = getattr(err, "frames_seen", None)
            usable = seen if seen is not None and seen >= self.span else self.span
            self.num_frames[i] = min(self.num_frames[i], usable)
        if i not in self.reported:
            self.reported.add(i)
            log.warning(
                "%s: could not decode a clip from frame %d (%s); using another clip "
                "(%d failure(s) so far in this process)",
                self.root / self.videos[i].path, start, err, self.failures,
            )

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, position = key if isinstance(key, tuple) else (key, -1)
        n = len(self.videos)
        for attempt in range(n):
            i = (index + attempt) % n
            if i in self.broken:
                continue
            for start in dict.fromkeys((self.clip_start(i, position), 0)):  # drawn, then 0
                try:
                    video = self.read_clip(i, start)
                except Exception as err:  # corrupt data raises many kinds of errors
                    self._failed(i, start, err)
                    continue
                return uint8_clip_to_model(video), torch.tensor(self.labels[i])
        raise RuntimeError(
            f"{self.root}: no video could be decoded ({self.failures} failures in this process)"
        )


class VideoFolderDataModule(GANDataModule):
    """A folder tree of videos as ``(x (B, C, T, R, R) in [-1, 1], y (B,) int64)`` batches.

    Args:
        root: the folder (see the module docstring for the layout).
        frames: frames per clip ``T``.
        stride: take every ``stride``-th frame (a clip spans ``(frames - 1) * stride + 1``).
        offset: ``"random"`` (uniform start where the clip fits) or ``"first"`` (frame 0).
        resolution: output side ``R`` (shorter side resized, centre crop).
        channels: 3 (RGB) or 1 (greyscale).
        extensions: video file extensions.
        cache_dir: folder for the probe index; ``None`` = ``root`` itself.
        index_cache: read and write the probe index (``False``: probe every time).

    Attributes:
        classes: class (first-level sub-folder) names, sorted; empty when there are none.
        spec: ``DataSpec((channels, frames, R, R), num_classes=len(classes))``.
        videos: the usable videos (:class:`VideoInfo`, after ``setup``), ``labels`` theirs.
        skipped: ``(path, reason)`` of every video left out (after ``setup``).
        ignored: videos directly in ``root`` when it has class sub-folders.
        probed: how many videos this ``setup`` probed (the others came from the index).
        index_file: the index's path.
        dataset: the :class:`VideoClipDataset` (after ``setup``).
    """

    def __init__(
        self,
        root: str,
        frames: int = 16,
        stride: int = 1,
        offset: str = "random",
        resolution: int = 64,
        channels: int = 3,
        extensions: Sequence[str] = VIDEO_EXTENSIONS,
        cache_dir: str | None = None,
        index_cache: bool = True,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = folder_root(root, "video folder")
        if offset not in OFFSETS:
            raise ValueError(f"offset must be one of {OFFSETS}, got {offset!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (greyscale) or 3 (RGB), got {channels}")
        if frames < 1 or stride < 1 or resolution < 1:
            raise ValueError(
                f"frames, stride and resolution must be >= 1, got {frames}, {stride}, "
                f"{resolution}"
            )
        self.frames = frames
        self.stride = stride
        self.offset = offset
        self.resolution = resolution
        self.channels = channels
        self.extensions = normalize_extensions(extensions)
        self.index_cache = index_cache
        self.index_file = index_path(self.root, cache_dir)
        self.classes = sorted(
            (
                e.name
                for e in os.scandir(self.root)
                if entry_is(e, "dir") and not e.name.startswith(".")
                and not is_frame_folder(Path(e.path))
            ),
            key=natural_key,
        )
        self.spec = DataSpec(shape=(channels, frames, resolution, resolution),
                             num_classes=len(self.classes))
        self.videos: list[VideoInfo] = []
        self.labels: list[int] = []
        self.skipped: list[tuple[Path, str]] = []
        self.ignored: list[Path] = []
        self.probed = 0
        self.dataset: VideoClipDataset | None = None

    @property
    def span(self) -> int:
        """Frames a clip covers in its video: ``(frames - 1) * stride + 1``."""
        return (self.frames - 1) * self.stride + 1

    def _list_videos(self) -> tuple[list[Path], list[int]]:
        if not self.classes:
            found = find_videos(self.root, self.extensions)
            return found, [0] * len(found)
        self.ignored = sorted(
            (
                self.root / e.name
                for e in os.scandir(self.root)
                if (entry_is(e, "file") and _has_extension(e.name, self.extensions))
                or (entry_is(e, "dir") and not e.name.startswith(".")
                    and e.name not in self.classes)
            ),
            key=lambda p: natural_key(p.name),
        )
        warn_ignored(self.root, self.ignored, "video(s)")
        return files_by_class(
            self.root, self.classes, lambda folder: find_videos(folder, self.extensions)
        )

    def _probe_all(self, paths: list[Path]) -> list[VideoInfo]:
        cached = load_index(self.index_file) if self.index_cache else {}
        infos: list[VideoInfo | None] = []
        todo = []
        for p in paths:
            entry = cached.get(p.relative_to(self.root).as_posix())
            try:
                fresh = entry is not None and entry.signature == signature(p)
            except OSError:
                fresh = False
            infos.append(entry if fresh else None)
            if not fresh:
                todo.append(len(infos) - 1)
        workers = min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(workers) as pool:
            for k, info in zip(todo, pool.map(lambda k: probe(self.root, paths[k]), todo),
                               strict=True):
                infos[k] = info
        self.probed = len(todo)
        if self.index_cache and (todo or len(cached) != len(paths)):
            try:
                save_index(self.index_file, self.root, infos)
            except OSError as err:
                warnings.warn(
                    f"could not write the video index {self.index_file} ({err}); the folder "
                    "will be probed again next time (set data.cache_dir)",
                    stacklevel=3,
                )
        return infos

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is not None:
            return
        paths, labels = self._list_videos()
        infos = self._probe_all(paths)
        keep = []
        for k, info in enumerate(infos):
            if info.error is not None:
                self.skipped.append((paths[k], f"unreadable: {info.error}"))
            elif info.num_frames < self.span:
                self.skipped.append(
                    (paths[k], f"{info.num_frames} frames, fewer than the {self.span} a clip needs")
                )
            else:
                keep.append(k)
        if self.skipped:
            unreadable = sum(r.startswith("unreadable") for _, r in self.skipped)
            shown = "; ".join(f"{p} ({r})" for p, r in self.skipped[:3])
            more = "; ..." if len(self.skipped) > 3 else ""
            warnings.warn(
                f"{self.root}: skipped {len(self.skipped)} of {len(paths)} video(s) "
                f"({unreadable} unreadable, {len(self.skipped) - unreadable} too short for "
                f"frames={self.frames}, stride={self.stride}): {shown}{more}",
                stacklevel=2,
            )
        if not keep:
            raise ValueError(
                f"no usable videos in {self.root} ({len(paths)} found with extensions "
                f"{list(self.extensions)} or as frame folders, {len(self.skipped)} skipped)"
            )
        self.videos = [infos[k] for k in keep]
        self.labels = [labels[k] for k in keep]
        for label, name in enumerate(self.classes):
            if label not in self.labels:
                warnings.warn(f"{self.root}: class folder {name!r} has no usable videos",
                              stacklevel=2)
        self.dataset = VideoClipDataset(
            self.root, self.videos, self.labels, self.frames, self.stride, self.offset,
            self.resolution, self.channels, self.seed,
        )
        log.info("%s: %d videos (%d probed, %d from the index %s)", self.root, len(self.videos),
                 self.probed, len(paths) - self.probed, self.index_file)

    def train_dataloader(self) -> DataLoader:
        if self.dataset is None:
            self.setup("fit")
        return self.training_loader(
            self.dataset,
            f"{self.root} has {len(self.dataset)} usable videos (a pass is one clip per video)",
            positions=True,
        )
