"""``mnistnet``: a small CNN classifier of MNIST digits trained by gan_lab, the feature network
of ``fid_mnistnet``/``kid_mnistnet`` and the digit labeller of Stacked MNIST mode counting.

Stacked MNIST papers label digits with a pretrained MNIST classifier (PacGAN and VEEGAN: a
Keras ``mnist_cnn`` model); gan_lab trained its own on the shipped digits (``load_mnist("train")``,
9,003 digits) with random affine augmentation (rotation, scale, translation), once, and ships the
weights (:mod:`gan_lab.metrics.features.shipped`: 98.29% on the held-out ``load_mnist("val")``
digits, recorded in ``weights/mnistnet.json``). ``gan-lab train-features mnistnet`` retrains it
with :class:`MNISTNetRecipe`.

Architecture: conv 5×5 stride 2 (32 channels) → conv 3×3 stride 2 (64), each with ReLU → a
128-unit ReLU layer (the features) → dropout 0.3 → 10 logits. Input: ``(B, 1, H, W)`` in
[-1, 1], resized (bilinear, antialiased) to 28×28 when ``H, W != 28``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import gan_lab
from gan_lab.metrics.features.base import Recipe, TrainedFeatureNetwork
from gan_lab.metrics.features.shipped import shipped_path


@dataclass(frozen=True)
class MNISTNetRecipe(Recipe):
    """How ``mnistnet`` is trained; part of its cache key."""

    epochs: int = 8
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    rotation_deg: float = 12.0
    scale: float = 0.1
    translate_px: float = 2.5
    seed: int = 0

    @property
    def network(self) -> type[MNISTNet]:
        return MNISTNet

    def train(self) -> MNISTNet:
        return train_mnistnet(self)


class MNISTClassifier(nn.Module):
    """The CNN: ``(B, 1, 28, 28)`` in [-1, 1] → ``(features (B, 128), logits (B, 10))``."""

    def __init__(self) -> None:
        super().__init__()

        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, 10))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)
        return h, self.head(h)


def to_28(x: Tensor) -> Tensor:
    """``(B, 1, H, W)`` → ``(B, 1, 28, 28)`` (bilinear, antialiased; identity at 28)."""
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"mnistnet expects grey images (B, 1, H, W), got {tuple(x.shape)}")
    if x.shape[-2:] == (28, 28):
        return x
    return F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)


class MNISTNet(TrainedFeatureNetwork):
    """``mnistnet`` features ``(B, 128)`` and digit probabilities ``(B, 10)``."""

    name = "mnistnet"
    standard = False
    num_features = 128
    num_classes = 10
    resize = "bilinear (antialiased) to 28x28 when not 28x28, values in [-1, 1]"
    classifier_class = MNISTClassifier

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(to_28(x.float()))[0]

    def logits(self, x: Tensor) -> Tensor:
        return self.classifier(to_28(x.float()))[1]

    def probabilities(self, x: Tensor) -> Tensor:
        return self.logits(x).softmax(dim=1)

    def predict(self, x: Tensor, batch_size: int = 1024) -> Tensor:
        """Digit labels ``(B,)`` of images ``(B, 1, H, W)``, in batches, without gradients."""
        with torch.no_grad():
            return torch.cat(
                [self.logits(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)]
            )


def random_affine(x: Tensor, recipe: MNISTNetRecipe, gen: torch.Generator) -> Tensor:
    """Random rotation, scale and translation of ``(B, 1, 28, 28)`` in [-1, 1] (background −1)."""
    b = len(x)
    angle = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(recipe.rotation_deg)
    scale = 1 + (torch.rand(b, generator=gen) * 2 - 1) * recipe.scale
    shift = (torch.rand(b, 2, generator=gen) * 2 - 1) * recipe.translate_px * 2 / 28
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False) - 1


def _as_model_space(images: Tensor) -> Tensor:
    return images[:, None].float() / 127.5 - 1


def evaluate_accuracy(net: MNISTNet, split: str = "val", root: str | None = None) -> float:
    """Share of ``load_mnist(split, root)`` digits that ``net`` labels correctly."""
    from gan_lab.data.mnist import load_mnist

    images, labels = load_mnist(split, root)
    return float((net.predict(_as_model_space(images)) == labels).float().mean())


def train_mnistnet(recipe: MNISTNetRecipe = MNISTNetRecipe()) -> MNISTNet:
    """Train the classifier on the shipped ``load_mnist("train")`` digits; deterministic for a
    given recipe, torch version and thread count."""
    from gan_lab.data.mnist import load_mnist

    start = time.perf_counter()
    images, labels = load_mnist("train")
    x_all = _as_model_space(images)
    gen = torch.Generator().manual_seed(recipe.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        model = MNISTClassifier()
        opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
        steps = recipe.epochs * (len(x_all) // recipe.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, recipe.lr, total_steps=steps)
        model.train()
        for _ in range(recipe.epochs):
            order = torch.randperm(len(x_all), generator=gen)
            for i in range(len(x_all) // recipe.batch_size):
                idx = order[i * recipe.batch_size : (i + 1) * recipe.batch_size]
                x = random_affine(x_all[idx], recipe, gen)
                loss = F.cross_entropy(model(x)[1], labels[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    net = MNISTNet(model, {"recipe": asdict(recipe), "gan_lab_version": gan_lab.__version__})
    net.meta["val_accuracy"] = evaluate_accuracy(net, "val")
    net.meta["train_seconds"] = round(time.perf_counter() - start, 1)
    return net


def mnistnet(path: str | None = None, cache_dir: str | None = None) -> MNISTNet:
    """The MNIST feature network: the shipped weights, or those of ``path`` (a file of
    ``gan-lab train-features mnistnet out=PATH``). ``cache_dir`` is accepted, as by every
    feature factory, and unused: nothing is trained or downloaded."""
    return MNISTNet.load(path if path is not None else shipped_path("mnistnet"))
