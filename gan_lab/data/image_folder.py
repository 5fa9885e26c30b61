"""Images from any folder tree of PNG/JPEG files, decoded once into memory.

Each image is converted to RGB (``channels=3``) or greyscale (``channels=1``), its shorter side
resized to ``resolution`` with Lanczos filtering, then centre-cropped to a square, as in the
``center-crop`` transform of StyleGAN2-ADA's ``dataset_tool.py`` (Karras et al., 2020,
arXiv:2006.06676). 16-bit and 32-bit images are scaled to 8 bits (not clipped); images with
transparency (RGBA, LA, palettes with a transparent colour) are composited over black, the
background of the generated data sets; greyscale images become RGB by repeating the channel.

Labels: when ``root`` has sub-folders (names starting with "." are ignored), each first-level
sub-folder is a class (sorted by name, label = index) and its images are found recursively;
image files sitting directly in ``root`` are then ignored, with one warning, because they have
no class. When ``root`` has no sub-folders, its images have label 0 and ``num_classes`` is 0.

Memory: everything is decoded at ``setup`` into one uint8 tensor of ``N * channels *
resolution**2`` bytes (e.g. 70,000 RGB images at 64x64 take 860 MB, at 256x256 13.8 GB); it is
the fast path for the small folders researchers use, not for large data sets.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from gan_lab.data.base import DataSpec, GANDataModule

log = logging.getLogger(__name__)


def uint8_to_model(x: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1] (0 -> -1, 255 -> 1)."""
    return x.float().div_(127.5).sub_(1.0)


class UInt8ImageDataset(Dataset):
    """In-memory images stored as uint8 ``(N, C, H, W)``; items are ``(x in [-1, 1], y)``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(
                f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels.long()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return uint8_to_model(self.images[i]), self.labels[i]


def folder_root(root: str, what: str) -> Path:
    """``root`` with ``~`` expanded; ``FileNotFoundError`` naming it when it is no folder."""
    path = Path(os.path.expanduser(str(root)))
    if path.is_symlink() and not path.exists():
        raise FileNotFoundError(f"{what} {path} is a symbolic link that leads nowhere (a loop or "
                                "a dangling link): point data.root at the folder itself")
    if not path.is_dir():
        raise FileNotFoundError(f"{what} not found: {path} (data.root)")
    return path


def normalize_extensions(extensions: Sequence[str]) -> tuple[str, ...]:
    """``["PNG", ".jpg"]`` → ``(".png", ".jpg")``."""
    return tuple((e if e.startswith(".") else f".{e}").lower() for e in map(str, extensions))


def files_by_class(
    root: Path, classes: Sequence[str], find: Callable[[Path], list[Path]]
) -> tuple[list[Path], list[int]]:
    """``find(root / class)`` for every class, and the label (class index) of each path."""
    paths, labels = [], []
    for label, name in enumerate(classes):
        found = find(root / name)
        paths += found
        labels += [label] * len(found)
    return paths, labels


def warn_ignored(root: Path, ignored: Sequence[Path], what: str) -> None:
    """One warning for the ``what`` (e.g. "image(s)") left directly in a root with classes."""
    if ignored:
        warnings.warn(
            f"{root}: ignored {len(ignored)} {what} directly in the root folder, which has "
            f"class sub-folders (e.g. {ignored[0].name})",
            stacklevel=4,
        )


def entry_is(entry: os.DirEntry, kind: str) -> bool:
    """Whether ``entry`` is a ``"dir"`` or a ``"file"``; a symbolic link that leads nowhere (a
    loop, a dangling link) is neither, and is reported."""
    try:
        return entry.is_dir() if kind == "dir" else entry.is_file()
    except OSError as err:
        warnings.warn(f"{entry.path}: ignored, a symbolic link that leads nowhere ({err.strerror})",
                      stacklevel=3)
        return False


def _class_dirs(root: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(root)
                  if not e.name.startswith(".") and entry_is(e, "dir"))


def _find_images(folder: Path, extensions: tuple[str, ...]) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [
            Path(dirpath) / f
            for f in sorted(filenames)
            if not f.startswith(".") and os.path.splitext(f)[1].lower() in extensions
        ]
    return found


def shorter_side_size(width: int, height: int, resolution: int) -> tuple[int, int]:
    """``(width', height')`` with the shorter side scaled to ``resolution`` (aspect kept)."""
    s = resolution / min(width, height)
    return max(resolution, round(width * s)), max(resolution, round(height * s))


def to_8bit(im: Image.Image, channels: int) -> Image.Image:
    """``im`` as 8-bit RGB (``channels=3``) or L: high-bit-depth greyscale scaled by its
    format's range, transparency composited over black."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im)
        top = 65535.0 if im.mode.startswith("I;16") or (im.mode == "I" and a.max() > 255) else (
            1.0 if im.mode == "F" else 255.0)
        im = Image.fromarray(np.clip(np.asarray(a, np.float64) / top * 255 + 0.5, 0, 255)
                             .astype(np.uint8), "L")
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        im = Image.alpha_composite(black, rgba)
    return im.convert("RGB" if channels == 3 else "L")


def load_image(path: str | Path, resolution: int, channels: int) -> np.ndarray:
    """Decode one file: shorter side to ``resolution`` (Lanczos), centre crop; (C, R, R) uint8."""
    with Image.open(path) as im:
        im.draft("RGB" if channels == 3 else "L", (resolution, resolution))  # JPEG: cheap scale
        im = to_8bit(im, channels)
    w, h = im.size
    nw, nh = shorter_side_size(w, h, resolution)
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), Image.Resampling.LANCZOS)
    left, top = (nw - resolution) // 2, (nh - resolution) // 2
    im = im.crop((left, top, left + resolution, top + resolution))
    a = np.asarray(im, dtype=np.uint8)
    return a[None] if channels == 1 else a.transpose(2, 0, 1)


class ImageFolderDataModule(GANDataModule):
    """A folder tree of images as ``(x (B, C, R, R) in [-1, 1], y (B,) int64)`` batches.

    Attributes:
        classes: class (first-level sub-folder) names, sorted; empty when there are none.
        spec: ``DataSpec((channels, resolution, resolution), num_classes=len(classes))``.
        paths: the decoded files, in label-then-path order (after ``setup``).
        skipped: files that could not be decoded (after ``setup``); reported in one warning.
        ignored: image files directly in ``root`` when it has class sub-folders (after
            ``setup``).
    """

    def __init__(
        self,
        root: str,
        resolution: int = 64,
        channels: int = 3,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
        extensions: Sequence[str] = (".png", ".jpg", ".jpeg"),
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = folder_root(root, "image folder")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (greyscale) or 3 (RGB), got {channels}")
        if resolution < 1:
            raise ValueError(f"resolution must be >= 1, got {resolution}")
        self.resolution = int(resolution)
        self.channels = int(channels)
        self.extensions = normalize_extensions(extensions)
        self.classes = _class_dirs(self.root)
        self.spec = DataSpec(
            shape=(self.channels, self.resolution, self.resolution),
            num_classes=len(self.classes),
        )
        self.dataset: UInt8ImageDataset | None = None
        self.paths: list[Path] = []
        self.skipped: list[Path] = []
        self.ignored: list[Path] = []

    def _list_files(self) -> tuple[list[Path], list[int]]:
        if not self.classes:
            files = _find_images(self.root, self.extensions)
            return files, [0] * len(files)
        self.ignored = [
            self.root / e.name
            for e in sorted(os.scandir(self.root), key=lambda e: e.name)
            if entry_is(e, "file") and os.path.splitext(e.name)[1].lower() in self.extensions
        ]
        warn_ignored(self.root, self.ignored, "image(s)")
        return files_by_class(
            self.root, self.classes, lambda folder: _find_images(folder, self.extensions)
        )

    def _decode(self, path: Path) -> np.ndarray | None:
        try:
            return load_image(path, self.resolution, self.channels)
        except Exception:  # corrupt or truncated files raise many kinds of errors
            return None

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is not None:
            return
        files, labels = self._list_files()
        workers = min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(workers) as pool:
            decoded = list(pool.map(self._decode, files))
        keep = [i for i, a in enumerate(decoded) if a is not None]
        self.skipped = [files[i] for i, a in enumerate(decoded) if a is None]
        if self.skipped:
            shown = ", ".join(str(p) for p in self.skipped[:3])
            more = ", ..." if len(self.skipped) > 3 else ""
            warnings.warn(
                f"{self.root}: skipped {len(self.skipped)} unreadable image file(s) of "
                f"{len(files)}: {shown}{more}",
                stacklevel=2,
            )
        if not keep:
            raise ValueError(
                f"no readable images with extensions {list(self.extensions)} in {self.root} "
                f"({len(files)} candidate file(s), {len(self.skipped)} unreadable)"
            )
        self.paths = [files[i] for i in keep]
        images = torch.from_numpy(np.stack([decoded[i] for i in keep]))
        y = torch.tensor([labels[i] for i in keep], dtype=torch.int64)
        self.dataset = UInt8ImageDataset(images, y)
        for label, name in enumerate(self.classes):
            if not (y == label).any():
                warnings.warn(
                    f"{self.root}: class folder {name!r} has no readable images", stacklevel=2
                )
        log.info(
            "%s: decoded %d images into %.1f MB", self.root, len(images), images.numel() / 2**20
        )

    def train_dataloader(self) -> DataLoader:
        if self.dataset is None:
            self.setup("fit")
        return self.training_loader(
            self.dataset, f"{self.root} has {len(self.dataset)} readable images"
        )
