"""``mmnistnet``: a video network trained by gan_lab on Moving MNIST to find which digits are in
a 16-frame clip, where, and which way each moves; the feature network of ``fvd_mmnistnet_16f``.

Data: fresh clips every step from the Moving MNIST generator (``gan_lab.data.moving_mnist``:
2 digits, 64×64, 16 frames, the paper's 3.6 px per frame) with digits from the training pool;
accuracies are measured on clips made from the disjoint validation pool. The generator's
metadata give the targets, at the first frame of each group of 4 frames (frames 0, 4, 8, 12):

* presence: which of the 10 digit classes are in the clip (multi-hot, binary cross-entropy);
* a dense map on an 8×8 grid of 8-pixel cells, as in CenterNet (Zhou, Wang and Krähenbühl
  2019, "Objects as Points", arXiv:1904.07850): the cell holding each digit's centre is labelled
  with its class (11-way softmax: 10 digits or background) and with the direction of its motion
  in 8 bins of 45° (softmax over bins, at digit cells only). Associating each direction with its
  digit through its position keeps the target well posed with two digits.

Architecture, after the SlowFast idea (Feichtenhofer et al. 2019, arXiv:1812.03982) of a
high-capacity pathway at a low frame rate and a light one at the full frame rate: the 16 frames
form 4 groups of 4; a *slow* 2D CNN sees the first frame of each group (appearance: conv 4×4
stride 2 → 3×3 stride 2 → 3×3 stride 2 → 3×3, widths 16-32-64-64), a *fast* 2D CNN sees all
4 frames of the group as channels (motion: widths 8-16-16), both ending on the 8×8 grid; their
maps are concatenated and mixed by a 3×3×3 convolution over (group, y, x) into 64 channels
(batch norm and ReLU after every convolution). The heads are a 1×1×1 convolution (the dense map)
and a linear layer on the spatial maximum averaged over groups (presence). The features are the
spatial maximum and mean of the 64-channel map per group: ``(B, 2 × 64 × 4) = (B, 512)``.

A clip's digit and direction are read from the network as a user of it would: digits are the
classes whose presence logit is positive; the direction of digit class ``c`` at a group is the
most likely bin in the cell where class ``c`` is most likely. ``meta`` keeps, on the validation
clips: ``val_digit_accuracy`` (per digit: its class predicted present), ``val_digit_pair_accuracy``
(the predicted set of classes is exactly the clip's), ``val_direction_accuracy`` (per digit and
group) and ``val_direction_pair_accuracy`` (per group: both digits' directions right).

Input ``(B, 1, 16, H, W)`` in [-1, 1]; frames resized bilinearly to 64×64 when needed.
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
from gan_lab.data.clips import uint8_clip_to_model
from gan_lab.metrics.features.base import Recipe, TrainedFeatureNetwork
from gan_lab.metrics.features.i3d import resize_frames
from gan_lab.metrics.features.shipped import shipped_path

FRAMES = 16
GROUPS = 4  # groups of FRAMES // GROUPS consecutive frames
SIZE = 64
GRID = 8  # cells per side of the dense map (8-pixel cells)
DIRECTION_BINS = 8
DIGIT_CENTRE = 14  # a digit is drawn at floor(position) with 28x28 pixels
BACKGROUND = 10  # dense class index of cells without a digit centre


@dataclass(frozen=True)
class MovingMNISTNetRecipe(Recipe):
    """How ``mmnistnet`` is trained; part of its cache key.

    Args:
        steps: Adam steps, each on ``batch_size`` new training clips.
        batch_size: clips per step.
        lr: peak learning rate of the one-cycle schedule.
        val_clips: validation clips the accuracies are measured on.
        seed: seeds the initial weights and the clip streams.
    """

    steps: int = 1500
    batch_size: int = 32
    lr: float = 4e-3
    val_clips: int = 1024
    seed: int = 0

    @property
    def network(self) -> type[MovingMNISTNet]:
        return MovingMNISTNet

    def train(self) -> MovingMNISTNet:
        return train_mmnistnet(self)


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


class MovingMNISTClassifier(nn.Module):
    """``(B, 1, 16, 64, 64)`` in [-1, 1] → ``(features (B, 512), presence logits (B, 10),
    dense logits (B, 11 + 8, 4, 8, 8))``; the dense logits are 11 classes (10 digits and
    background) then 8 direction bins, per group and cell."""

    slow_width = 16
    fast_width = 8
    channels = 64

    def __init__(self) -> None:
        super().__init__()
        w, f, per_group = self.slow_width, self.fast_width, FRAMES // GROUPS
        self.slow = nn.Sequential(
            *_conv_bn(1, w, 4, 2, 1), *_conv_bn(w, 2 * w, 3, 2, 1),
            *_conv_bn(2 * w, 4 * w, 3, 2, 1), *_conv_bn(4 * w, 4 * w, 3, 1, 1),
        )
        self.fast = nn.Sequential(
            *_conv_bn(per_group, f, 4, 2, 1), *_conv_bn(f, 2 * f, 3, 2, 1),
            *_conv_bn(2 * f, 2 * f, 3, 2, 1),
        )
        self.mix = nn.Sequential(
            nn.Conv3d(4 * w + 2 * f, self.channels, 3, 1, 1, bias=False),
            nn.BatchNorm3d(self.channels), nn.ReLU(inplace=True),
        )
        self.dense = nn.Conv3d(self.channels, 11 + DIRECTION_BINS, 1)
        self.presence = nn.Linear(self.channels, 10)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        b = x.shape[0]
        groups = x.reshape(b * GROUPS, FRAMES // GROUPS, SIZE, SIZE)
        groups = groups.contiguous(memory_format=torch.channels_last)
        h = torch.cat([self.slow(groups[:, :1]), self.fast(groups)], dim=1)  # (B·G, C, 8, 8)
        h = self.mix(h.reshape(b, GROUPS, -1, GRID, GRID).transpose(1, 2))  # (B, 64, G, 8, 8)
        peak = h.amax(dim=(3, 4))  # (B, C, G)
        features = torch.cat([peak, h.mean(dim=(3, 4))], dim=1).flatten(1)
        return features, self.presence(peak.mean(dim=2)), self.dense(h)


class MovingMNISTNet(TrainedFeatureNetwork):
    """``mmnistnet`` features ``(B, 512)`` of clips ``(B, 1, 16, H, W)`` in [-1, 1]."""

    name = "mmnistnet"
    standard = False
    num_features = 2 * MovingMNISTClassifier.channels * GROUPS
    resize = f"bilinear to {SIZE}x{SIZE} per frame when not {SIZE}x{SIZE}, values in [-1, 1]"
    classifier_class = MovingMNISTClassifier

    def _input(self, x: Tensor) -> Tensor:
        if x.ndim != 5 or x.shape[1] != 1 or x.shape[2] != FRAMES:
            raise ValueError(
                f"mmnistnet expects grey {FRAMES}-frame clips (B, 1, {FRAMES}, H, W), got "
                f"{tuple(x.shape)}"
            )
        return resize_frames(x.float(), SIZE)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self._input(x))[0]

    def outputs(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Presence logits ``(B, 10)`` and dense logits ``(B, 19, 4, 8, 8)``."""
        return self.classifier(self._input(x))[1:]


@dataclass(frozen=True)
class ClipTargets:
    """Targets of a batch of ``B`` clips with ``D`` digits, at frames 0, 4, 8, 12.

    Attributes:
        labels: int64 ``(B, D)``: the digits' classes.
        cells: int64 ``(B, G, D, 2)``: the ``(row, column)`` of the cell holding each digit's
            centre.
        bins: int64 ``(B, G, D)``: each digit's direction of motion in 45° bins; bin 0 is
            +x (rightwards), bin 2 is +y (down the image rows).
    """

    labels: Tensor
    cells: Tensor
    bins: Tensor


def direction_bins(velocities: np.ndarray) -> np.ndarray:
    """``(..., 2)`` velocities ``(v_y, v_x)`` → int64 bins of 45° centred on 0°, 45°, ...."""
    angle = np.mod(np.arctan2(velocities[..., 0], velocities[..., 1]), 2 * math.pi)
    width = 2 * math.pi / DIRECTION_BINS
    return np.floor(angle / width + 0.5).astype(np.int64) % DIRECTION_BINS


def clip_batch(dataset, indices) -> tuple[Tensor, ClipTargets]:
    """Clips ``indices`` of a :class:`~gan_lab.data.moving_mnist.MovingMNISTDataset` (64×64,
    16 frames) as ``(x (B, 1, 16, 64, 64) in [-1, 1], targets)``."""
    clips = [dataset.clip(int(i)) for i in indices]
    x = uint8_clip_to_model(np.stack([c.frames for c in clips])[:, None])
    step = FRAMES // GROUPS
    positions = np.stack([c.positions[::step] for c in clips])  # (B, G, D, 2)
    cells = (np.floor(positions) + DIGIT_CENTRE) // (SIZE // GRID)
    velocities = np.stack([c.velocities[::step] for c in clips])
    return x, ClipTargets(
        labels=torch.from_numpy(np.stack([c.labels for c in clips])),
        cells=torch.from_numpy(cells.astype(np.int64)),
        bins=torch.from_numpy(direction_bins(velocities)),
    )


def dense_targets(t: ClipTargets) -> tuple[Tensor, Tensor]:
    """Class distribution per cell ``(B, 11, G, 8, 8)`` (background where no digit centre is;
    shared by two digits in one cell) and direction counts per cell ``(B, 8, G, 8, 8)``."""
    b, groups, digits = t.bins.shape
    batch = torch.arange(b)[:, None, None].expand(b, groups, digits)
    group = torch.arange(groups)[None, :, None].expand(b, groups, digits)
    row, col = t.cells[..., 0], t.cells[..., 1]
    classes = torch.zeros(b, 11, groups, GRID, GRID)
    classes.index_put_((batch, t.labels[:, None, :].expand(b, groups, digits), group, row, col),
                       torch.ones(()), accumulate=True)
    classes[:, BACKGROUND] = (classes.sum(1) == 0).float()
    directions = torch.zeros(b, DIRECTION_BINS, groups, GRID, GRID)
    directions.index_put_((batch, t.bins, group, row, col), torch.ones(()), accumulate=True)
    return classes / classes.sum(1, keepdim=True), directions


def presence_targets(labels: Tensor) -> Tensor:
    """Multi-hot ``(B, 10)`` of the classes in each clip."""
    target = torch.zeros(len(labels), 10)
    target[torch.arange(len(labels))[:, None], labels] = 1
    return target


def mmnistnet_loss(presence: Tensor, dense: Tensor, t: ClipTargets) -> Tensor:
    """Presence BCE + dense class cross-entropy (every cell) + direction cross-entropy (cells
    holding a digit centre)."""
    classes, directions = dense_targets(t)
    loss = F.binary_cross_entropy_with_logits(presence, presence_targets(t.labels))
    loss = loss - (classes * dense[:, :11].log_softmax(1)).sum(1).mean()
    counts = directions.sum(1)
    occupied = counts > 0
    cross = -(directions / counts.clamp(min=1)[:, None] * dense[:, 11:].log_softmax(1)).sum(1)
    return loss + cross[occupied].mean()


def read_directions(dense: Tensor, labels: Tensor) -> Tensor:
    """Direction bin ``(B, G, D)`` of each digit class in ``labels`` ``(B, D)`` at each group:
    the most likely bin in the cell where that class is most likely."""
    b, _, groups = dense.shape[:3]
    class_prob = dense[:, :11].softmax(1).flatten(3)  # (B, 11, G, 64)
    best_bin = dense[:, 11:].argmax(1).flatten(2)  # (B, G, 64)
    found = []
    for d in range(labels.shape[1]):
        cell = class_prob[torch.arange(b), labels[:, d]].argmax(2)  # (B, G)
        found.append(best_bin.gather(2, cell[..., None])[..., 0])
    return torch.stack(found, dim=2)


def accuracies(presence: Tensor, dense: Tensor, t: ClipTargets) -> dict[str, float]:
    """Digit and direction accuracies (see the module docstring). A clip with two digits of
    one class counts a direction as right when it is either digit's."""
    predicted = presence > 0
    digits = predicted.gather(1, t.labels)
    pairs = (predicted == presence_targets(t.labels).bool()).all(1)
    read = read_directions(dense, t.labels)  # (B, G, D)
    right = torch.zeros_like(read, dtype=torch.bool)
    for d in range(t.labels.shape[1]):
        same_class = t.labels == t.labels[:, d : d + 1]  # (B, D)
        right[..., d] = ((read[..., d : d + 1] == t.bins) & same_class[:, None]).any(2)
    return {
        "val_digit_accuracy": float(digits.float().mean()),
        "val_digit_pair_accuracy": float(pairs.float().mean()),
        "val_direction_accuracy": float(right.float().mean()),
        "val_direction_pair_accuracy": float(right.all(2).float().mean()),
    }


def moving_mnist_clips(split: str, seed: int):
    """The infinite stream of 16-frame 64×64 Moving MNIST clips of ``split``'s digit pool."""
    from gan_lab.data.moving_mnist import MovingMNISTDataModule

    dm = MovingMNISTDataModule(split=split, frames=FRAMES, canvas_size=SIZE, length=1,
                               seed=seed)
    dm.setup("fit")
    return dm.dataset


def evaluate_mmnistnet(net: MovingMNISTNet, clips: int = 1024, seed: int = 0,
                       batch_size: int = 128) -> dict[str, float]:
    """Accuracies on the first ``clips`` clips of the validation stream."""
    dataset = moving_mnist_clips("val", seed)
    presence, dense, targets = [], [], []
    with torch.no_grad():
        for start in range(0, clips, batch_size):
            x, t = clip_batch(dataset, range(start, min(start + batch_size, clips)))
            p, d = net.outputs(x)
            presence.append(p)
            dense.append(d)
            targets.append(t)
    joined = ClipTargets(*(torch.cat([getattr(t, k) for t in targets])
                           for k in ("labels", "cells", "bins")))
    return accuracies(torch.cat(presence), torch.cat(dense), joined)


def train_mmnistnet(recipe: MovingMNISTNetRecipe = MovingMNISTNetRecipe()) -> MovingMNISTNet:
    """Train on ``recipe.steps × recipe.batch_size`` fresh training clips; deterministic for
    a given recipe, torch version and thread count."""
    start = time.perf_counter()
    dataset = moving_mnist_clips("train", recipe.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        model = MovingMNISTClassifier()
        opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, recipe.lr, total_steps=recipe.steps,
                                                    pct_start=0.1)
        model.train()
        for step in range(recipe.steps):
            first = step * recipe.batch_size
            x, t = clip_batch(dataset, range(first, first + recipe.batch_size))
            _, presence, dense = model(x)
            loss = mmnistnet_loss(presence, dense, t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    net = MovingMNISTNet(model, {"recipe": asdict(recipe), "gan_lab_version": gan_lab.__version__})
    net.meta["train_seconds"] = round(time.perf_counter() - start, 1)
    net.meta.update(evaluate_mmnistnet(net, recipe.val_clips, recipe.seed))
    return net


def mmnistnet(path: str | None = None, cache_dir: str | None = None) -> MovingMNISTNet:
    """The Moving MNIST feature network: the shipped weights, or those of ``path`` (a file of
    ``gan-lab train-features mmnistnet out=PATH``). ``cache_dir`` is accepted, as by every
    feature factory, and unused: nothing is trained or downloaded."""
    return MovingMNISTNet.load(path if path is not None else shipped_path("mmnistnet"))
