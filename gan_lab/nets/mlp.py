"""Fully connected generator and discriminator for any data shape (flattened).

After the MLPs of the original GAN (Goodfellow et al. 2014, arXiv:1406.2661: ReLU generator,
maxout discriminator with dropout) and the toy-data MLPs of the mode-collapse literature
(Unrolled GAN, Metz et al. 2016, arXiv:1611.02163; PacGAN, Lin et al. 2018, arXiv:1712.04086,
whose toy D is a 5-piece maxout MLP). Used for 2-D toy data and, flattened, for images.

Class-conditional variants: G concatenates a learned label embedding to z; D uses the projection
head of Miyato & Koyama 2018 (arXiv:1802.05637) on its last hidden features.

Defaults (``hidden_dim=256``, ``n_layers=3``, ``latent_dim=64``) are a middle ground between
those papers (128-1200 units, 1-4 hidden layers); presets set the paper values. Weights keep
PyTorch's default initialisation unless ``init_std`` is set: then linear weights ~ N(0,
init_std) and biases 0 (PacGAN's toy nets: ``IsotropicGaussian(0.02)``, ``Constant(0)``), via
:func:`~gan_lab.nets.layers.dcgan_init_`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gan_lab.nets.base import Discriminator, Generator, require_labels
from gan_lab.nets.layers import (
    Maxout,
    ProjectionHead,
    as_data_shape,
    check_choice,
    dcgan_init_,
    make_activation,
    make_norm,
)

__all__ = ["MLPGenerator", "MLPDiscriminator"]


class MLPGenerator(Generator):
    """MLP generator: ``z (B, latent_dim)`` [+ ``embed(y)``] -> ``(B, *data_shape)``.

    Each of the ``n_layers`` hidden layers is Linear -> norm -> ReLU; the output layer is
    Linear -> ``out_activation``, reshaped to ``data_shape``.

    Args:
        data_shape: one sample's shape (any; e.g. ``(2,)`` or ``(1, 28, 28)``).
        num_classes: 0 for unconditional, else the number of labels.
        latent_dim: size of z.
        hidden_dim: width of every hidden layer.
        n_layers: number of hidden layers (>= 1).
        norm: ``"none"``, ``"batch"`` or ``"layer"``, after each hidden linear layer.
        out_activation: ``"tanh"`` (samples in [-1, 1]) or ``"none"`` (unbounded).
        embed_dim: size of the label embedding concatenated to z (conditional only).
        prior: ``"normal"`` or ``"uniform"`` (U[-1, 1], the original GAN's noise).
        init_std: when set, weights ~ N(0, init_std) and biases 0; else PyTorch's default.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        latent_dim: int = 64,
        hidden_dim: int = 256,
        n_layers: int = 3,
        norm: str = "none",
        out_activation: str = "tanh",
        embed_dim: int = 32,
        prior: str = "normal",
        init_std: float | None = None,
    ) -> None:
        super().__init__(latent_dim, prior)
        name = type(self).__name__
        self.data_shape = as_data_shape(name, data_shape)
        check_choice(name, "norm", norm, ("none", "batch", "layer"))
        check_choice(name, "out_activation", out_activation, ("tanh", "none"))
        _check_sizes(name, num_classes=num_classes, hidden_dim=hidden_dim, n_layers=n_layers)
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes > 0 else None
        in_dim = latent_dim + (embed_dim if num_classes > 0 else 0)
        layers: list[nn.Module] = []
        for _ in range(n_layers):
            layers += [
                nn.Linear(in_dim, hidden_dim, bias=norm == "none"),
                make_norm(norm, hidden_dim, 0),
                nn.ReLU(),
            ]
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, math.prod(self.data_shape)))
        if out_activation == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        _init(self.net, init_std, name)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """``z (B, latent_dim)``, ``y (B,)`` -> ``(B, *data_shape)``."""
        y = require_labels(self, self.num_classes, y)
        if self.embed is not None:
            z = torch.cat([z, self.embed(y).to(z.dtype)], dim=1)
        return self.net(z).view(z.shape[0], *self.data_shape)


class MLPDiscriminator(Discriminator):
    """MLP discriminator: ``x (B, *data_shape)`` [, ``y (B,)``] -> logits ``(B,)``.

    Hidden layer: Linear -> norm -> activation -> dropout, or, for ``activation="maxout"``,
    Maxout -> norm -> dropout. Output: a :class:`ProjectionHead` on the last hidden features
    (a plain linear layer when unconditional).

    Args:
        data_shape: one sample's shape (any; flattened).
        num_classes: 0 for unconditional, else the number of labels (projection head).
        hidden_dim: width of every hidden layer.
        n_layers: number of hidden layers (>= 1).
        activation: ``"leaky_relu"`` (slope 0.2), ``"relu"`` or ``"maxout"``.
        maxout_pieces: linear pieces per maxout unit (5 in PacGAN's toy D).
        norm: ``"none"`` or ``"layer"`` (no BatchNorm: D must stay per-sample for GP/R1).
        dropout: dropout probability after each hidden layer (the original GAN used dropout).
        init_std: when set, weights ~ N(0, init_std) and biases 0; else PyTorch's default.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        hidden_dim: int = 256,
        n_layers: int = 3,
        activation: str = "leaky_relu",
        maxout_pieces: int = 5,
        norm: str = "none",
        dropout: float = 0.0,
        init_std: float | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.data_shape = as_data_shape(name, data_shape)
        check_choice(name, "activation", activation, ("leaky_relu", "relu", "maxout"))
        check_choice(name, "norm", norm, ("none", "layer"))
        _check_sizes(name, num_classes=num_classes, hidden_dim=hidden_dim, n_layers=n_layers)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.num_classes = num_classes
        in_dim = math.prod(self.data_shape)
        layers: list[nn.Module] = []
        for _ in range(n_layers):
            if activation == "maxout":
                layers += [
                    Maxout(in_dim, hidden_dim, maxout_pieces),
                    make_norm(norm, hidden_dim, 0),
                ]
            else:
                layers += [
                    nn.Linear(in_dim, hidden_dim),
                    make_norm(norm, hidden_dim, 0),
                    make_activation(activation),
                ]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            in_dim = hidden_dim
        self.net = nn.Sequential(*layers)
        self.head = ProjectionHead(in_dim, num_classes)
        _init(self.net, init_std, name)
        if self.head.linear is not None:
            _init(self.head.linear, init_std, name)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``x (B, *data_shape)``, ``y (B,)`` -> logits ``(B,)``."""
        y = require_labels(self, self.num_classes, y)
        return self.head(self.net(x.flatten(1)), y)


def _init(module: nn.Module, init_std: float | None, owner: str) -> None:
    if init_std is None:
        return
    if init_std <= 0:
        raise ValueError(f"{owner}: init_std must be > 0 or null, got {init_std}")
    dcgan_init_(module, init_std)


def _check_sizes(owner: str, num_classes: int, hidden_dim: int, n_layers: int) -> None:
    if num_classes < 0:
        raise ValueError(f"{owner}: num_classes must be >= 0, got {num_classes}")
    if hidden_dim < 1:
        raise ValueError(f"{owner}: hidden_dim must be >= 1, got {hidden_dim}")
    if n_layers < 1:
        raise ValueError(f"{owner}: n_layers must be >= 1, got {n_layers}")
