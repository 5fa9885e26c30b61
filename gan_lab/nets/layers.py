"""Building blocks shared by gan_lab's networks: option checks, a norm factory, DCGAN init,
maxout and the projection head of a class-conditional discriminator.

References:
    * Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep
      Convolutional GANs", arXiv:1511.06434 (initialisation).
    * Goodfellow et al. 2013, "Maxout Networks", arXiv:1302.4389.
    * Miyato & Koyama 2018, "cGANs with Projection Discriminator", arXiv:1802.05637.
    * Ba, Kiros & Hinton 2016, "Layer Normalization", arXiv:1607.06450.
    * Wu & He 2018, "Group Normalization", arXiv:1803.08494.
    * Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for GANs",
      arXiv:1802.05957.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm
from torch.nn.utils.parametrize import is_parametrized

__all__ = [
    "NORMS",
    "ACTIVATIONS",
    "check_choice",
    "as_data_shape",
    "make_norm",
    "make_activation",
    "group_count",
    "dcgan_init_",
    "Maxout",
    "ProjectionHead",
    "apply_spectral_norm",
]

NORMS: tuple[str, ...] = ("none", "batch", "layer", "group")
ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu")
LEAKY_SLOPE = 0.2  # LeakyReLU slope of DCGAN's discriminator (Radford et al. 2015).

_BATCH_NORMS = {0: nn.BatchNorm1d, 1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_CONV_LAYERS = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
)
_NORM_LAYERS = (
    nn.modules.batchnorm._BatchNorm,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.modules.instancenorm._InstanceNorm,
)


def check_choice(owner: str, name: str, value: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError naming the option."""
    if value not in choices:
        raise ValueError(f"{owner}: {name}={value!r} is not one of {tuple(choices)}")
    return value


def as_data_shape(owner: str, data_shape: Sequence[int]) -> tuple[int, ...]:
    """``data_shape`` (a list, tuple or Hydra ListConfig) as a tuple of positive ints."""
    try:
        shape = tuple(int(s) for s in data_shape)
    except TypeError as err:
        raise ValueError(
            f"{owner}: data_shape must be a sequence of ints, got {data_shape!r}"
        ) from err
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"{owner}: data_shape must be non-empty and positive, got {shape}")
    return shape


def group_count(num_channels: int, max_groups: int = 32) -> int:
    """GroupNorm groups: ``gcd(num_channels, max_groups)`` (32 groups in Wu & He 2018), so the
    count always divides the channels."""
    return math.gcd(num_channels, max_groups)


def make_norm(kind: str, num_features: int, spatial_dims: int) -> nn.Module:
    """A normalization layer for ``(B, F)`` (``spatial_dims=0``) or ``(B, C, *S)`` inputs.

    * ``"none"``: identity.
    * ``"batch"``: BatchNorm1d/2d/3d.
    * ``"layer"``: vectors: ``LayerNorm(F)``; maps: ``GroupNorm(1, C)``, which normalises over
      ``(C, *S)`` per sample with a per-channel scale and shift: the layer norm of the WGAN-GP
      code, and independent of the resolution.
    * ``"group"``: ``GroupNorm(gcd(C, 32), C)``.
    """
    check_choice("make_norm", "kind", kind, NORMS)
    if kind == "none":
        return nn.Identity()
    if kind == "batch":
        return _BATCH_NORMS[spatial_dims](num_features)
    if kind == "layer":
        return nn.LayerNorm(num_features) if spatial_dims == 0 else nn.GroupNorm(1, num_features)
    return nn.GroupNorm(group_count(num_features), num_features)


def make_activation(name: str) -> nn.Module:
    """``"relu"`` or ``"leaky_relu"`` (slope 0.2)."""
    check_choice("make_activation", "name", name, ACTIVATIONS)
    return nn.ReLU() if name == "relu" else nn.LeakyReLU(LEAKY_SLOPE)


@torch.no_grad()
def dcgan_init_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """DCGAN initialisation (Radford et al. 2015, §4), in place.

    Conv, transposed-conv and linear weights ~ N(0, std); norm-layer scales ~ N(1, std); biases
    of those layers zero. Embeddings are left alone (a label embedding keeps PyTorch's N(0, 1),
    the scale of z; :class:`ProjectionHead` initialises its own). Returns ``module``.
    """
    for m in module.modules():
        if isinstance(m, _CONV_LAYERS):
            weight = (
                m.parametrizations.weight.original if is_parametrized(m, "weight") else m.weight
            )
            nn.init.normal_(weight, 0.0, std)
        elif isinstance(m, _NORM_LAYERS):
            if getattr(m, "weight", None) is not None:
                nn.init.normal_(m.weight, 1.0, std)
        else:
            continue
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)
    return module


class Maxout(nn.Module):
    """Maxout unit (Goodfellow et al. 2013): the max over ``pieces`` linear maps.

    Shapes: ``(B, in_features) -> (B, out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 5) -> None:
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be >= 1, got {pieces}")
        self.out_features = out_features
        self.pieces = pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        h = self.linear(x).view(x.shape[0], self.out_features, self.pieces)
        return h.max(dim=-1).values

    def extra_repr(self) -> str:
        return f"out_features={self.out_features}, pieces={self.pieces}"


class ProjectionHead(nn.Module):
    """Output head of a (class-conditional) discriminator (Miyato & Koyama 2018).

    ``logit = ψ(φ) + ⟨embed(y), φ⟩`` where ``φ`` ``(B, F)`` is D's last feature vector, ``ψ`` a
    linear map to one number and ``embed`` a learned ``(num_classes, F)`` table (the
    ``V`` of the paper, initialised Xavier-uniform as in its reference code). With
    ``num_classes=0`` it is just ``ψ`` (an unconditional head) and ``y`` is ignored. With
    ``linear=False`` ``ψ`` is left to the caller (DCGAN's D keeps its final conv as ``ψ``) and the
    head returns only the projection term.

    Shapes: ``phi (B, F)``, ``y (B,)`` int64 -> ``(B,)``.
    """

    def __init__(self, in_features: int, num_classes: int = 0, linear: bool = True) -> None:
        super().__init__()
        if num_classes < 0:
            raise ValueError(f"ProjectionHead: num_classes must be >= 0, got {num_classes}")
        if not linear and num_classes == 0:
            raise ValueError("ProjectionHead: linear=False needs num_classes > 0")
        self.num_classes = num_classes
        self.linear = nn.Linear(in_features, 1) if linear else None
        self.embed = nn.Embedding(num_classes, in_features) if num_classes > 0 else None
        if self.embed is not None:
            nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, phi: Tensor, y: Tensor | None = None) -> Tensor:
        out = phi.new_zeros(phi.shape[0]) if self.linear is None else self.linear(phi).squeeze(1)
        if self.embed is not None:
            if y is None:
                raise ValueError(
                    f"this discriminator is class-conditional (num_classes={self.num_classes}): "
                    "pass labels y"
                )
            out = out + (self.embed(y) * phi).sum(dim=1)
        return out


# Layers whose ``weight`` spectral normalization wraps (norm layers are left alone).
SPECTRAL_NORM_LAYERS: tuple[type[nn.Module], ...] = (*_CONV_LAYERS, nn.Embedding)


def apply_spectral_norm(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Wrap the weight of every conv, transposed conv, linear and embedding layer with
    ``torch.nn.utils.parametrizations.spectral_norm`` (Miyato et al. 2018), in place.

    Norm layers are left alone, as are layers already parametrized. One power iteration per
    training forward, as in the paper. Returns ``module`` for chaining.
    """
    for m in list(module.modules()):
        if not isinstance(m, SPECTRAL_NORM_LAYERS):
            continue
        if getattr(m, "weight", None) is None or is_parametrized(m, "weight"):
            continue
        spectral_norm(m, n_power_iterations=n_power_iterations)
    return module
