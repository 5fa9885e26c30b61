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

Robustness: at ``setup`` every video is probed (:mod:`gan_lab.data.video_files`); corrupt,
empty and too short videos are skipped, counted and reported in one warning. The probe results
are cached in a JSON index (``<root>/.gan_lab_video_index.json``, or a file in ``cache_dir``),
so a large folder is probed once. If a clip still fails to decode during training
(:mod:`gan_lab.data.video_decode`), the same video is tried from its first frame, then the next
videos in order (:class:`~gan_lab.data.video_clips.VideoClipDataset`); failures are counted and
logged once per video, and training goes on.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from torch.utils.data import DataLoader

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.data.image_folder import (
    entry_is,
    files_by_class,
    folder_root,
    normalize_extensions,
    warn_ignored,
)
from gan_lab.data.video_clips import OFFSETS, VideoClipDataset
from gan_lab.data.video_files import (
    VIDEO_EXTENSIONS,
    VideoInfo,
    find_videos,
    has_extension,
    index_path,
    is_frame_folder,
    load_index,
    natural_key,
    probe,
    save_index,
    signature,
)

log = logging.getLogger(__name__)


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
                if (entry_is(e, "file") and has_extension(e.name, self.extensions))
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
