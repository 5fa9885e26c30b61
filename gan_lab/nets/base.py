"""Base classes of gan_lab's networks (plain ``nn.Module``s; nothing about Lightning).

Every net is built from its data: keyword arguments ``data_shape`` (one sample's shape, e.g.
``(2,)``, ``(C, H, W)`` or ``(C, T, H, W)``; a :class:`~gan_lab.data.base.DataSpec`'s ``shape``)
and ``num_classes`` (0: unconditional; > 0: class-conditional), plus its own options. A net
raises a ValueError naming the shape when it cannot handle it.

Conventions: a generator maps ``z (B, latent_dim)`` (and labels ``y (B,)`` when conditional) to
samples ``(B, *data_shape)`` in [-1, 1]; a discriminator maps ``x (B, *data_shape)`` (and ``y``)
to logits ``(B,)``, or to patch logits ``(B, P)`` (a PatchGAN-style D that judges ``P`` regions
separately; the adversarial losses average over all of them). Unconditional nets ignore ``y``,
so a training loop may always pass it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_lab.nets.layers import check_choice, dcgan_init_

__all__ = ["Generator", "Discriminator", "PRIORS", "dcgan_init_"]

PRIORS: tuple[str, ...] = ("normal", "uniform")


class Generator(nn.Module):
    """Base generator: owns the latent prior.

    Args:
        latent_dim: size of z.
        prior: ``"normal"`` (N(0, I)) or ``"uniform"`` (U[-1, 1]^d, as in DCGAN and the original
            GAN).
    """

    latent_dim: int

    def __init__(self, latent_dim: int, prior: str = "normal") -> None:
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"{type(self).__name__}: latent_dim must be >= 1, got {latent_dim}")
        self.latent_dim = int(latent_dim)
        self.prior = check_choice(type(self).__name__, "prior", prior, PRIORS)

    def _device_dtype(self) -> tuple[torch.device, torch.dtype]:
        p = next(self.parameters(), None)
        if p is None:
            return torch.device("cpu"), torch.get_default_dtype()
        return p.device, (p.dtype if p.is_floating_point() else torch.get_default_dtype())

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw ``n`` latents ``(n, latent_dim)`` from the prior, on this module's device.

        ``generator`` (a seeded ``torch.Generator``, on any device) makes the draw reproducible.
        """
        device, dtype = self._device_dtype()
        draw_device = generator.device if generator is not None else device
        shape = (n, self.latent_dim)
        if self.prior == "normal":
            z = torch.randn(shape, generator=generator, device=draw_device, dtype=dtype)
        else:
            z = torch.rand(shape, generator=generator, device=draw_device, dtype=dtype) * 2 - 1
        return z.to(device)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:  # pragma: no cover
        """``z (B, latent_dim)``, ``y (B,)`` -> samples ``(B, *data_shape)`` in [-1, 1]."""
        raise NotImplementedError

    def forward_with_losses(
        self, z: Tensor, y: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Samples and the generator's own auxiliary losses, already weighted.

        A net whose paper adds a term to G's objective that depends on its internals (VGAN's L1
        penalty on the foreground mask) returns it here by name; the training scheme adds every
        term to the generator loss and logs it. Default: ``(self(z, y), {})``.
        """
        return self(z, y), {}


class Discriminator(nn.Module):
    """Base discriminator: ``x (B, *data_shape)``, ``y (B,)`` -> logits ``(B,)``."""

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:  # pragma: no cover
        raise NotImplementedError


def require_labels(owner: nn.Module, num_classes: int, y: Tensor | None) -> Tensor | None:
    """``y`` if the net is conditional (raising if it is missing), else ``None``."""
    if num_classes == 0:
        return None
    if y is None:
        raise ValueError(
            f"{type(owner).__name__} is class-conditional (num_classes={num_classes}): pass y"
        )
    return y
