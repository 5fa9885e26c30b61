"""Adversarial losses: pure functions on discriminator logits, and thin classes for Hydra.

Every function takes raw discriminator outputs ("logits") of shape ``(B,)`` and returns a scalar.
Sigmoid-based losses are written with ``softplus`` so they are stable for any logit
(``-log sigmoid(t) = softplus(-t)`` and ``-log(1 - sigmoid(t)) = softplus(t)``). Logits are cast
to float32 first, so the reduction is exact under bf16/fp16 autocast.

Each class exposes ``discriminator(real_logits, fake_logits)`` (the loss D minimises) and
``generator(fake_logits, real_logits=None)`` (the loss G minimises). A loss whose generator term
needs D's logits on real data (the relativistic loss of :mod:`gan_lab.losses.relativistic`) sets
``uses_real_logits = True``; the training loop then computes them (without gradients) in the
generator step. Hydra builds the classes from ``conf/loss/*.yaml`` through ``_target_``.

References:
    * Goodfellow et al. 2014, "Generative Adversarial Nets", arXiv:1406.2661.
    * Mao et al. 2017, "Least Squares Generative Adversarial Networks", arXiv:1611.04076.
    * Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", arXiv:1701.07875.
    * Lim & Ye 2017, "Geometric GAN", arXiv:1705.02894.
    * Miyato et al. 2018, "Spectral Normalization for GANs", arXiv:1802.05957.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "AdversarialLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "LeastSquaresLoss",
    "WassersteinLoss",
    "HingeLoss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
]


# --------------------------------------------------------------------------- pure functions
def minimax_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """D loss of Goodfellow et al. 2014 (eq. 1), negated to be minimised.

    ``-E[log D(x)] - E[log(1 - D(G(z)))]`` with ``D = sigmoid(logit)``, i.e. binary cross-entropy
    with targets 1 for real and 0 for fake. Logits ``(B,)`` -> scalar.
    """
    return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()


def minimax_generator_loss(fake_logits: Tensor) -> Tensor:
    """Saturating G loss of eq. 1: G *minimises* ``E[log(1 - D(G(z)))] = -E[softplus(logit)]``.

    Its gradient vanishes where D confidently rejects fakes (``D(G(z)) -> 0``), which is why
    Goodfellow et al. recommend :func:`non_saturating_generator_loss` in practice.
    """
    return -F.softplus(fake_logits.float()).mean()


def non_saturating_generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating G loss: G maximises ``E[log D(G(z))]``, i.e. minimises ``E[softplus(-t)]``."""
    return F.softplus(-fake_logits.float()).mean()


def least_squares_discriminator_loss(
    real_logits: Tensor, fake_logits: Tensor, a: float = 0.0, b: float = 1.0
) -> Tensor:
    """LSGAN D loss (Mao et al. 2017): ``½E[(D(x) - b)²] + ½E[(D(G(z)) - a)²]``."""
    return (
        0.5 * (real_logits.float() - b).pow(2).mean()
        + 0.5 * (fake_logits.float() - a).pow(2).mean()
    )


def least_squares_generator_loss(fake_logits: Tensor, c: float = 1.0) -> Tensor:
    """LSGAN G loss (Mao et al. 2017): ``½E[(D(G(z)) - c)²]``."""
    return 0.5 * (fake_logits.float() - c).pow(2).mean()


def wasserstein_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """WGAN critic loss (Arjovsky et al. 2017): ``E[D(G(z))] - E[D(x)]``."""
    return fake_logits.float().mean() - real_logits.float().mean()


def wasserstein_generator_loss(fake_logits: Tensor) -> Tensor:
    """WGAN G loss (Arjovsky et al. 2017): ``-E[D(G(z))]``."""
    return -fake_logits.float().mean()


def hinge_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge D loss (Lim & Ye 2017; Miyato et al. 2018):
    ``E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]``."""
    return F.relu(1.0 - real_logits.float()).mean() + F.relu(1.0 + fake_logits.float()).mean()


def hinge_generator_loss(fake_logits: Tensor) -> Tensor:
    """Hinge G loss (Lim & Ye 2017; Miyato et al. 2018): ``-E[D(G(z))]``."""
    return -fake_logits.float().mean()


# --------------------------------------------------------------------------- classes
class AdversarialLoss:
    """Base of the loss classes: a pair of scalar losses on ``(B,)`` logits.

    Attributes:
        uses_real_logits: whether :meth:`generator` needs D's logits on the real batch.
    """

    uses_real_logits: bool = False

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """The loss D minimises, from D's logits on reals and on fakes ``(B,)``."""
        raise NotImplementedError

    def generator(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        """The loss G minimises, from D's logits on fakes ``(B,)`` (and on the paired reals,
        given only when :attr:`uses_real_logits`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class MinimaxLoss(AdversarialLoss):
    """Goodfellow et al. 2014, eq. 1, with the saturating G loss ``E[log(1 - D(G(z)))]``."""

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return minimax_discriminator_loss(real_logits, fake_logits)

    def generator(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return minimax_generator_loss(fake_logits)


class NonSaturatingLoss(AdversarialLoss):
    """Goodfellow et al. 2014: D as in eq. 1; G maximises ``log D(G(z))`` (the practical form)."""

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return minimax_discriminator_loss(real_logits, fake_logits)

    def generator(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return non_saturating_generator_loss(fake_logits)


class LeastSquaresLoss(AdversarialLoss):
    """LSGAN (Mao et al. 2017, arXiv:1611.04076) with targets fake ``a``, real ``b``, G ``c``.

    The defaults ``a=0, b=1, c=1`` are the paper's 0-1 coding scheme; ``a=-1, b=1, c=0``
    (``b - c = 1``, ``b - a = 2``) is the scheme under which G minimises the Pearson χ²
    divergence.
    """

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        self.a = float(a)
        self.b = float(b)
        self.c = float(c)

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return least_squares_discriminator_loss(real_logits, fake_logits, a=self.a, b=self.b)

    def generator(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return least_squares_generator_loss(fake_logits, c=self.c)


class WassersteinLoss(AdversarialLoss):
    """WGAN (Arjovsky et al. 2017, arXiv:1701.07875); pair it with a Lipschitz constraint
    (weight clipping, gradient penalty or spectral norm)."""

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return wasserstein_discriminator_loss(real_logits, fake_logits)

    def generator(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return wasserstein_generator_loss(fake_logits)


class HingeLoss(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017, arXiv:1705.02894; Miyato et al. 2018, arXiv:1802.05957)."""

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return hinge_discriminator_loss(real_logits, fake_logits)

    def generator(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return hinge_generator_loss(fake_logits)
