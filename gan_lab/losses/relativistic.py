"""Relativistic pairing GAN loss (RpGAN).

Jolicoeur-Martineau 2018, "The relativistic discriminator: a key element missing from standard
GAN", arXiv:1807.00734 (RSGAN, eq. for the standard-GAN case), in the form R3GAN uses (Huang,
Gokaslan, Kuleshov & Tompkin 2024, "The GAN is dead; long live the GAN! A Modern GAN Baseline",
arXiv:2501.05441, eq. 2): with ``f = softplus(-t) = -log sigmoid(t)``,

* D minimises ``E[f(D(x_r) - D(x_f))] = E[softplus(D(x_f) - D(x_r))]``;
* G minimises ``E[f(D(x_f) - D(x_r))] = E[softplus(D(x_r) - D(x_f))]``,

where the ``i``-th real sample of a batch is paired with its ``i``-th fake (the logits must have
the same shape; patch logits ``(B, P)`` are paired patch by patch). Unlike the classic losses,
the generator's loss needs D's logits on real data: :attr:`AdversarialLoss.uses_real_logits`.
Logits are cast to float32 first, as in :mod:`gan_lab.losses.adversarial`.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from gan_lab.losses.adversarial import AdversarialLoss

__all__ = [
    "RelativisticPairingLoss",
    "relativistic_discriminator_loss",
    "relativistic_generator_loss",
]


def _paired(what: str, real_logits: Tensor | None, fake_logits: Tensor) -> Tensor:
    if real_logits is None:
        raise ValueError(f"{what} needs D's logits on real samples (the paired real batch)")
    if real_logits.shape != fake_logits.shape:
        raise ValueError(
            f"{what} pairs real and fake samples: logits must have the same shape, got "
            f"{tuple(real_logits.shape)} and {tuple(fake_logits.shape)}"
        )
    return real_logits.float()


def relativistic_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """RpGAN D loss ``E[softplus(D(x_f) - D(x_r))]`` over paired logits ``(B,)`` -> scalar."""
    real = _paired("relativistic_discriminator_loss", real_logits, fake_logits)
    return F.softplus(fake_logits.float() - real).mean()


def relativistic_generator_loss(fake_logits: Tensor, real_logits: Tensor) -> Tensor:
    """RpGAN G loss ``E[softplus(D(x_r) - D(x_f))]`` over paired logits ``(B,)`` -> scalar."""
    real = _paired("relativistic_generator_loss", real_logits, fake_logits)
    return F.softplus(real - fake_logits.float()).mean()


class RelativisticPairingLoss(AdversarialLoss):
    """RpGAN (Jolicoeur-Martineau 2018; R3GAN, Huang et al. 2024): D tells which of a (real,
    fake) pair is real; G makes its fake look more real than the real one it is paired with.
    Pair it with R1 + R2 (``regularizer=r1_r2``), as R3GAN does."""

    uses_real_logits = True

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return relativistic_discriminator_loss(real_logits, fake_logits)

    def generator(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return relativistic_generator_loss(fake_logits, real_logits)
