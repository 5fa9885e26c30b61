"""Unconditional and class-conditional GANs on images or vectors (2-D toy data)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gan_lab.data.base import DataSpec
from gan_lab.modules.base import GANModule
from gan_lab.nets.base import Generator
from gan_lab.nets.packing import pack, packed_shape


class ImageGAN(GANModule):
    """One generator against one discriminator: GAN, DCGAN, LSGAN, WGAN(-GP), SNGAN, cGAN.

    The variants differ only in their nets, loss, regularizer and optimizer settings, which
    come from the config (``conf/model/*.yaml``); the loop is :class:`GANModule`'s.

    **Packing** (PacGAN, Lin et al. 2018, arXiv:1712.04086): with ``packing=m > 1`` the
    discriminator is built for packs of ``m`` samples (:func:`~gan_lab.nets.packing.packed_shape`)
    and every real and every fake batch is cut into packs of ``m`` samples of the same kind
    (:func:`~gan_lab.nets.packing.pack`) before D, its loss and its regularizer see it, so D gives
    one logit per pack and a gradient penalty is taken per pack. DiffAugment (``augment``)
    transforms each sample before packing. The batch size must be divisible
    by ``m``; the generator is unchanged.

    Args:
        generator, discriminator: factories ``f(data_shape=..., num_classes=...)`` of the nets
            (Hydra ``_partial_`` configs from ``conf/net/``); ``num_classes`` is the data's
            number of classes when ``conditional`` and 0 otherwise.
        packing: samples per discriminator input (1: no packing).
        **kwargs: the loop's settings, see :class:`GANModule`.
    """

    def __init__(
        self,
        generator: Callable[..., Generator],
        discriminator: Callable[..., nn.Module],
        spec: DataSpec,
        conditional: bool = False,
        packing: int = 1,
        **kwargs,
    ) -> None:
        if conditional and packing > 1:
            raise ValueError(
                "model.packing > 1 packs several samples into one D input and cannot be combined "
                "with model.conditional=true (a pack has no single label)"
            )
        num_classes = spec.num_classes if conditional else 0
        d_shape = packed_shape(spec.shape, packing)
        super().__init__(
            generator=generator(data_shape=spec.shape, num_classes=num_classes),
            discriminators={"d": discriminator(data_shape=d_shape, num_classes=num_classes)},
            spec=spec,
            conditional=conditional,
            **kwargs,
        )
        self.packing = packing

    def on_fit_start(self) -> None:
        batch_size = getattr(self.trainer.datamodule, "batch_size", None)
        if batch_size is not None and batch_size % self.packing:
            raise ValueError(
                f"data.batch_size={batch_size} must be divisible by model.packing={self.packing} "
                "(a discriminator input is a pack of model.packing samples)"
            )

    def fake_for(self, real: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.generate(len(real), self.labels(y))

    def discriminator_inputs(self, name, x, y, real):
        """The batch, augmented, then cut into packs of ``packing`` samples."""
        return pack(self.augmented(x), self.packing), self.labels(y)

    def generator_loss(self, real, y):
        fake = self.generate(len(real), self.labels(y))
        return self.adversarial_g_loss("d", real, fake, y), {}
