"""``mmnistnet``: a 3D-CNN trained by gan_lab on Moving MNIST to recognise which digits are in a
clip and which way they move; the feature network of ``fvd_mmnistnet_16f``.

Training data come from the Moving MNIST generator itself (``gan_lab.data.moving_mnist``), whose
metadata give the targets: the digits' classes (10-way multi-hot) and their directions of motion
at the first frame, in 8 bins of 45° (8-way multi-hot); binary cross-entropy on both. Clips of
16 frames, 2 digits, 64×64, from the training digit pool; accuracies are measured on clips from
the disjoint validation pool (``meta["val_digit_accuracy"]``: both digits right;
``meta["val_direction_accuracy"]``: both direction bins right).

Architecture: 2×2 spatial average pooling → conv3d 1→16 (kernel 3×4×4, stride 1×2×2) → conv3d
16→32 and 32→64 (kernel 3, stride 2), ReLU after each → global max pooling (digits can be
anywhere) → a 128-unit ReLU layer (the features) → 18 outputs. Input ``(B, 1, T, H, W)`` in
[-1, 1], frames resized to 64×64 when needed; any T.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import gan_lab
from gan_lab.metrics.features.base import Recipe, TrainedFeatureNetwork
from gan_lab.metrics.features.i3d import resize_frames

DIRECTION_BINS = 8


@dataclass(frozen=True)
class MovingMNISTNetRecipe(Recipe):
    """How ``mmnistnet`` is trained; part of its cache key."""

    clips: int = 2048
    epochs: int = 6
    batch_size: int = 32
    lr: float = 2e-3
    frames: int = 16
    val_clips: int = 512
    seed: int = 0

    @property
    def network(self) -> type[MovingMNISTNet]:
        return MovingMNISTNet

    def train(self) -> MovingMNISTNet:
        return train_mmnistnet(self)


class MovingMNISTClassifier(nn.Module):
    """``(B, 1, T, 64, 64)`` → ``(features (B, 128), logits (B, 10 + 8))``."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.AvgPool3d((1, 2, 2)),
            nn.Conv3d(1, 16, (3, 4, 4), stride=(1, 2, 2), padding=1), nn.ReLU(),
            nn.Conv3d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv3d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool3d(1), nn.Flatten(), nn.Linear(64, 128), nn.ReLU(),
        )
        self.head = nn.Linear(128, 10 + DIRECTION_BINS)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)
        return h, self.head(h)


class MovingMNISTNet(TrainedFeatureNetwork):
    """``mmnistnet`` features ``(B, 128)`` of clips ``(B, 1, T, H, W)`` in [-1, 1]."""

    name = "mmnistnet"
    standard = False
    num_features = 128
    resize = "bilinear to 64x64 per frame when not 64x64, values in [-1, 1]"
    classifier_class = MovingMNISTClassifier

    def _input(self, x: Tensor) -> Tensor:
        if x.ndim != 5 or x.shape[1] != 1:
            raise ValueError(f"mmnistnet expects grey clips (B, 1, T, H, W), got {tuple(x.shape)}")
        return resize_frames(x.float(), 64)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self._input(x))[0]

    def logits(self, x: Tensor) -> Tensor:
        return self.classifier(self._input(x))[1]


def _targets(clip) -> Tensor:
    """Multi-hot digits (10) and direction bins at frame 0 (8) of a MovingMNISTClip."""
    target = torch.zeros(10 + DIRECTION_BINS)
    target[torch.as_tensor(clip.labels)] = 1
    angle = np.mod(clip.directions[0], 2 * math.pi)
    bins = np.floor(angle / (2 * math.pi / DIRECTION_BINS) + 0.5).astype(int) % DIRECTION_BINS
    target[10 + torch.as_tensor(bins)] = 1
    return target


def _clips(dataset, indices) -> tuple[Tensor, Tensor]:
    made = [dataset.clip(int(i)) for i in indices]
    x = torch.from_numpy(np.stack([c.frames for c in made]))[:, None].float() / 127.5 - 1
    return x, torch.stack([_targets(c) for c in made])


def _set_accuracy(logits: Tensor, target: Tensor) -> float:
    """Share of rows whose top-k outputs are exactly the k positives (k = positives per row)."""
    hits = []
    for row, t in zip(logits, target, strict=True):
        k = int(t.sum())
        hits.append(bool(t[row.topk(k).indices].all()))
    return float(np.mean(hits))


def _dataset(split: str, frames: int, length: int, seed: int):
    from gan_lab.data.moving_mnist import MovingMNISTDataModule

    dm = MovingMNISTDataModule(split=split, frames=frames, length=length, seed=seed)
    dm.setup("fit")
    return dm.train_dataloader().dataset


def evaluate_mmnistnet(net: MovingMNISTNet, clips: int = 512, frames: int = 16,
                       seed: int = 0) -> dict[str, float]:
    """Digit-set and direction-set accuracy on clips from the validation digit pool."""
    dataset = _dataset("val", frames, clips, seed)
    logits, targets = [], []
    with torch.no_grad():
        for start in range(0, clips, 64):
            x, t = _clips(dataset, range(start, min(start + 64, clips)))
            logits.append(net.logits(x))
            targets.append(t)
    z, t = torch.cat(logits), torch.cat(targets)
    return {
        "val_digit_accuracy": _set_accuracy(z[:, :10], t[:, :10]),
        "val_direction_accuracy": _set_accuracy(z[:, 10:], t[:, 10:]),
    }


def train_mmnistnet(recipe: MovingMNISTNetRecipe = MovingMNISTNetRecipe()) -> MovingMNISTNet:
    """Train on ``recipe.clips`` generated training clips; deterministic for a given recipe,
    torch version and thread count."""
    start = time.perf_counter()
    dataset = _dataset("train", recipe.frames, recipe.clips, recipe.seed)
    clips, targets = _clips(dataset, range(recipe.clips))  # rendered once, reused every epoch
    gen = torch.Generator().manual_seed(recipe.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        model = MovingMNISTClassifier()
        opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr)
        steps = recipe.epochs * (recipe.clips // recipe.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, recipe.lr, total_steps=steps)
        model.train()
        for _ in range(recipe.epochs):
            order = torch.randperm(recipe.clips, generator=gen)
            for i in range(recipe.clips // recipe.batch_size):
                idx = order[i * recipe.batch_size : (i + 1) * recipe.batch_size]
                loss = F.binary_cross_entropy_with_logits(model(clips[idx])[1], targets[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    net = MovingMNISTNet(model, {"recipe": asdict(recipe), "gan_lab_version": gan_lab.__version__})
    net.meta.update(evaluate_mmnistnet(net, recipe.val_clips, recipe.frames, recipe.seed))
    net.meta["train_seconds"] = round(time.perf_counter() - start, 1)
    return net


def mmnistnet(path: str | None = None, cache_dir: str | None = None) -> MovingMNISTNet:
    """The Moving MNIST feature network: from ``path`` if given, else from the cache, training
    it there on first use."""
    if path is not None:
        return MovingMNISTNet.load(path)
    return MovingMNISTNetRecipe().cached_or_trained(cache_dir)
