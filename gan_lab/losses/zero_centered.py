"""Zero-centred gradient penalties on real data (R1), on generated data (R2), or both.

Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?",
arXiv:1801.04406, eqs. 9-10: ``R1 = γ/2 E_{x~p_D}[‖∇ₓ D(x)‖²]`` and
``R2 = γ/2 E_{x~p_θ}[‖∇ₓ D(x)‖²]``; R3GAN (Huang, Gokaslan, Kuleshov & Tompkin 2024,
arXiv:2501.05441, §2.2) applies both with its relativistic loss.

**Lazy regularization** (Karras et al. 2020, StyleGAN2, arXiv:1912.04958, Appendix B): with
``every = k > 1`` the penalty is computed only at every ``k``-th D update (D updates 0, k, 2k,
...) and multiplied by ``k``, so its average weight is unchanged.

Penalties are computed in float32 with autocast disabled (see
:mod:`gan_lab.losses.regularizers`), on detached inputs: they train D only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_lab.losses.regularizers import DiscriminatorInputs, Regularizer, reject_batchnorm

__all__ = ["ZeroCenteredGradientPenalty", "zero_centered_gradient_penalty"]

TARGETS = ("real", "fake", "both")


def zero_centered_gradient_penalty(
    discriminator: nn.Module, x: Tensor, y: Tensor | None = None
) -> Tensor:
    """``E[‖∇ₓ D(x)‖²]`` over the batch ``x (B, *S)`` (without γ/2): R1 on reals, R2 on fakes.

    The gradient's graph is kept (``create_graph=True``) so the penalty back-propagates into D's
    parameters. Returns a float32 scalar.
    """
    x = x.detach().float().requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        out = discriminator(x) if y is None else discriminator(x, y)
        (grad,) = torch.autograd.grad(out.float().sum(), x, create_graph=True)
        return grad.pow(2).flatten(1).sum(1).mean()


class ZeroCenteredGradientPenalty(Regularizer):
    """R1, R2 or both (Mescheder et al. 2018; R3GAN): ``γ/2 · E‖∇ₓ D(x)‖²`` on real or generated
    ``samples``, summed for ``"both"``, every ``every`` D updates and then scaled by ``every``.

    Args:
        gamma: γ (10 in Mescheder et al.'s CelebA/LSUN runs; R3GAN uses 0.05-2 by data set).
        samples: ``"real"`` (R1), ``"fake"`` (R2) or ``"both"`` (R1 + R2).
        every: lazy regularization interval ``k`` (1: every D update).
    """

    input_gradients = True

    def __init__(self, gamma: float = 10.0, samples: str = "real", every: int = 1) -> None:
        if gamma < 0:
            raise ValueError(f"regularizer.gamma must be >= 0, got {gamma}")
        if samples not in TARGETS:
            raise ValueError(
                f"regularizer.samples must be one of {list(TARGETS)}, got {samples!r}"
            )
        if every < 1:
            raise ValueError(f"regularizer.every must be >= 1, got {every}")
        self.gamma = float(gamma)
        self.samples = samples
        self.every = int(every)

    def prepare(self, discriminator: nn.Module) -> nn.Module:
        reject_batchnorm(type(self).__name__, discriminator)
        return discriminator

    def penalty(self, discriminator: nn.Module, inputs: DiscriminatorInputs) -> Tensor | None:
        if inputs.step % self.every:
            return None
        samples = {"real": [inputs.real], "fake": [inputs.fake],
                   "both": [inputs.real, inputs.fake]}[self.samples]
        total = sum(zero_centered_gradient_penalty(discriminator, x, inputs.labels)
                    for x in samples)
        return 0.5 * self.gamma * self.every * total
