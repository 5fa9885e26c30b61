"""The data set of one clip per video, robust to videos that fail to decode during training."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from gan_lab.data.clips import uint8_clip_to_model
from gan_lab.data.image_folder import shorter_side_size
from gan_lab.data.video_decode import decode_file_clip, decode_frame_folder_clip
from gan_lab.data.video_files import VideoInfo

log = logging.getLogger(__name__)

OFFSETS = ("random", "first")


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


