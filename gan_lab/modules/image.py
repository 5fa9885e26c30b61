"""Unconditional and class-conditional GANs on images or vectors (2-D toy data)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gan_lab.data.base import DataSpec
from gan_lab.modules.base import GANModule
from gan_lab.nets.base import Generator


class ImageGAN(GANModule):
    """One generator against one discriminator: GAN, DCGAN, LSGAN, WGAN(-GP), SNGAN, cGAN.

    The variants differ only in their nets, loss, regularizer and optimizer settings, which
    come from the config (``conf/model/*.yaml``); the loop is :class:`GANModule`'s.

    Args:
        generator, discriminator: factories ``f(data_shape=..., num_classes=...)`` of the nets
            (Hydra ``_partial_`` configs from ``conf/net/``); ``num_classes`` is the data's
            number of classes when ``conditional`` and 0 otherwise.
        **kwargs: the loop's settings, see :class:`GANModule`.
    """

    def __init__(
        self,
        generator: Callable[..., Generator],
        discriminator: Callable[..., nn.Module],
        spec: DataSpec,
        conditional: bool = False,
        **kwargs,
    ) -> None:
        num_classes = spec.num_classes if conditional else 0
        super().__init__(
            generator=generator(data_shape=spec.shape, num_classes=num_classes),
            discriminators={"d": discriminator(data_shape=spec.shape, num_classes=num_classes)},
            spec=spec,
            conditional=conditional,
            **kwargs,
        )

    def fake_for(self, real: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.generate(len(real), self.labels(y))

    def discriminator_loss(self, name, real, fake, y):
        return self.adversarial_d_loss(self.discriminators[name], real, fake, y)

    def generator_loss(self, real, y):
        labels = self.labels(y)
        fake = self.generate(len(real), labels)
        return self.loss.generator(self.discriminators["d"](fake, labels)), {}
