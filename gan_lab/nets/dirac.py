"""The Dirac-GAN's nets (Mescheder, Geiger & Nowozin 2018, arXiv:1801.04406, §2.2):
a generator with one parameter, ``G_θ(z) = θ``, and a linear discriminator ``D_ψ(x) = ψ·x``.

``instance_noise`` adds ``N(0, σ²)`` to every input of D in training (the instance noise of
Sønderby et al. 2016 and Arjovsky & Bottou 2017, analysed for the Dirac-GAN in §3 of the
paper), to real and generated samples alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gan_lab.nets.base import Discriminator, Generator
from gan_lab.nets.layers import as_data_shape

__all__ = ["DiracDiscriminator", "DiracGenerator"]


def _check(owner: str, data_shape: Sequence[int], num_classes: int) -> None:
    if as_data_shape(owner, data_shape) != (1,) or num_classes:
        raise ValueError(f"{owner} is the Dirac-GAN's net: data=dirac (shape (1,), no classes), "
                         f"got data_shape={tuple(data_shape)}, num_classes={num_classes}")


class DiracGenerator(Generator):
    """``G_θ(z) = θ`` for every latent: ``(B, 1)``. ``theta`` is the starting point."""

    def __init__(self, data_shape: Sequence[int], num_classes: int = 0, theta: float = 1.0) -> None:
        super().__init__(latent_dim=1)
        _check(type(self).__name__, data_shape, num_classes)
        self.theta = nn.Parameter(torch.tensor(float(theta)))

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.theta.expand(len(z), 1)


class DiracDiscriminator(Discriminator):
    """``D_ψ(x) = ψ·x`` -> logits ``(B,)``. ``psi`` is the starting point; ``instance_noise`` is
    σ of the noise added to D's inputs in training (0: none)."""

    def __init__(self, data_shape: Sequence[int], num_classes: int = 0, psi: float = 1.0,
                 instance_noise: float = 0.0) -> None:
        super().__init__()
        _check(type(self).__name__, data_shape, num_classes)
        if instance_noise < 0:
            raise ValueError(f"DiracDiscriminator: instance_noise must be >= 0, got "
                             f"{instance_noise}")
        self.psi = nn.Parameter(torch.tensor(float(psi)))
        self.instance_noise = float(instance_noise)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        if self.training and self.instance_noise > 0:
            x = x + self.instance_noise * torch.randn_like(x)
        return self.psi * x[:, 0]
