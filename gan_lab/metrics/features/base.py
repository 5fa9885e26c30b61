"""What every feature network of gan_lab's metrics provides, and where their weights live.

A feature network maps samples in model space [-1, 1] (images ``(B, C, H, W)``, videos
``(B, C, T, H, W)``) to features ``(B, D)``, doing its own resizing and value scaling, and states
what it did (:attr:`FeatureNetwork.resize`) and which weights it uses
(:attr:`FeatureNetwork.sha256`), so that every metric value carries its protocol.

Weights never come from the network: standard networks (InceptionV3, I3D) are read from local
files, domain networks (``mnistnet``, ``mmnistnet``) ship with gan_lab
(:mod:`gan_lab.metrics.features.shipped`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lab.files import atomic_save

CACHE_ENV = "GAN_LAB_CACHE"


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """gan_lab's cache folder: ``path``, else ``$GAN_LAB_CACHE``, else ``~/.cache/gan_lab``."""
    chosen = path or os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_lab"
    return Path(os.path.expanduser(str(chosen)))


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def state_sha256(state: Mapping[str, Tensor]) -> str:
    """sha256 over a state dict's names, dtypes, shapes and values, in key order (hex).

    Independent of how the dict is serialised, so it identifies the weights themselves.
    """
    digest = hashlib.sha256()
    for key, value in state.items():
        t = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{key}:{t.dtype}:{tuple(value.shape)};".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


class FeatureNetwork(nn.Module):
    """Base of feature networks; always in eval mode, never trained by a metric.

    Attributes:
        name: short name used in metric names and protocol cards (``inception_v3``,
            ``mnistnet``).
        standard: a network of the literature (InceptionV3, I3D): metric names carry no
            network suffix (``fid10k``); domain networks are named (``fid_mnistnet``).
        num_features: D, the size of :meth:`forward`'s output.
        num_classes: K of :meth:`probabilities` (0 when the network has no classifier).
        sha256: identifies the weights (file bytes or :func:`state_sha256`).
        resize: how samples are turned into network input (resize, value range).
    """

    name: str = ""
    standard: bool = False
    num_features: int = 0
    num_classes: int = 0
    sha256: str = ""
    resize: str = ""

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - interface
        """Samples in [-1, 1] → features ``(B, num_features)``."""
        raise NotImplementedError

    def probabilities(self, x: Tensor) -> Tensor:
        """Samples in [-1, 1] → class probabilities ``(B, num_classes)``."""
        raise NotImplementedError(f"{self.name} has no classifier output")

    def as_classifier(self) -> nn.Module:
        """A module whose ``forward`` is :meth:`probabilities` (for Inception Score)."""
        return _Probabilities(self)

    def train(self, mode: bool = True) -> FeatureNetwork:
        return super().train(False)

    def card(self) -> dict[str, str]:
        """The network's part of a protocol card."""
        return {
            "feature_network": self.name,
            "weights_sha256": self.sha256,
            "resize": self.resize,
        }


class _Probabilities(nn.Module):
    def __init__(self, net: FeatureNetwork) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net.probabilities(x)


def to_uint8_range(x: Tensor) -> Tensor:
    """[-1, 1] → float values on the uint8 grid {0, ..., 255}, as if saved as an image file."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round()


def grey_to_rgb(x: Tensor) -> Tensor:
    """Repeat a single channel three times (dim 1); RGB passes through."""
    if x.shape[1] == 1:
        return x.expand(-1, 3, *x.shape[2:])
    if x.shape[1] != 3:
        raise ValueError(f"expected 1 or 3 channels, got shape {tuple(x.shape)}")
    return x


def find_weights(
    what: str,
    env: str,
    filename: str,
    path: str | os.PathLike | None,
    cache: str | None,
    hint: str,
    fallback: Path | None = None,
) -> Path:
    """A standard network's weights file: ``path``, else ``$env``, else
    ``<cache dir>/weights/<filename>``, else ``fallback``; otherwise a ``FileNotFoundError``
    that names the file and where to put it (``hint`` says what the file is)."""
    default = cache_dir(cache) / "weights" / filename
    candidates = [
        ("feature.path", path),
        (env, os.environ.get(env)),
        ("cache", default if default.is_file() else None),
        ("fallback", fallback),
    ]
    for source, candidate in candidates:
        if candidate is None:
            continue
        candidate = Path(os.path.expanduser(str(candidate)))
        if not candidate.is_file():
            raise FileNotFoundError(
                f"{what} weights not found: {source} points to {candidate}, which is not a file"
            )
        return candidate
    raise FileNotFoundError(
        f"{what} weights not found. {hint}: put '{filename}' at {default} or set "
        f"{env}=/path/to/file. gan_lab never downloads weights."
    )


def load_torchscript(file: Path, what: str, example: str) -> torch.jit.ScriptModule:
    """``torch.jit.load`` with an error that says a TorchScript file was expected."""
    try:
        return torch.jit.load(str(file), map_location="cpu")
    except Exception as err:  # a state dict, a pickle or a broken file
        raise ValueError(
            f"{file} is not a TorchScript module ({err.__class__.__name__}); {what} is read "
            f"from TorchScript files such as {example}"
        ) from err


class TrainedFeatureNetwork(FeatureNetwork):
    """A domain network trained by gan_lab: wraps a classifier ``(features, logits)`` module,
    keeps ``meta`` (recipe, held-out accuracies) and is saved as ``{"state_dict", "meta"}``."""

    classifier_class: type[nn.Module]

    def __init__(self, classifier: nn.Module, meta: dict | None = None) -> None:
        super().__init__()
        self.classifier = classifier.eval()
        self.sha256 = state_sha256(classifier.state_dict())
        self.meta = dict(meta or {})

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``{"state_dict", "meta"}`` (a plain state dict file) to ``path``."""
        path = Path(path)
        atomic_save({"state_dict": self.classifier.state_dict(), "meta": self.meta}, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainedFeatureNetwork:
        """Load a file written by :meth:`save` (or a bare state dict of the classifier)."""
        path = Path(os.path.expanduser(str(path)))
        if not path.is_file():
            raise FileNotFoundError(
                f"{cls.name} weights not found: {path}; train them with `gan-lab train-features "
                f"{cls.name} out=PATH`, or leave feature.path unset to use the cached network"
            )
        blob = torch.load(path, map_location="cpu", weights_only=True)
        state, meta = (blob["state_dict"], blob.get("meta")) if "state_dict" in blob else (
            blob, None)
        model = cls.classifier_class()
        model.load_state_dict(state)
        return cls(model, meta)


class Recipe:
    """Base of the training recipes of :class:`TrainedFeatureNetwork`s (frozen dataclasses):
    their fields and gan_lab's version key the file ``gan-lab train-features`` writes into the
    cache."""

    network: type[TrainedFeatureNetwork]

    def train(self) -> TrainedFeatureNetwork:  # pragma: no cover - interface
        raise NotImplementedError

    def key(self) -> str:
        import hashlib
        import json
        from dataclasses import asdict

        import gan_lab

        text = json.dumps({"version": gan_lab.__version__, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def cache_path(self, cache: str | None = None) -> Path:
        """Where ``gan-lab train-features`` stores the network trained with this recipe."""
        return cache_dir(cache) / "features" / f"{self.network.name}-{self.key()}.pt"

    def load(self, path: str | os.PathLike) -> TrainedFeatureNetwork:
        return self.network.load(path)
