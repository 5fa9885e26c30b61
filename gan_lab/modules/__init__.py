"""Training schemes (LightningModules) on the shared :class:`GANModule` loop."""

from gan_lab.modules.base import DivergenceError, GANModule
from gan_lab.modules.image import ImageGAN

__all__ = ["DivergenceError", "GANModule", "ImageGAN"]
