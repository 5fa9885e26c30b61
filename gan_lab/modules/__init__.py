"""Training schemes (LightningModules) on the shared :class:`GANModule` loop."""

from gan_lab.modules.base import DivergenceError, GANModule
from gan_lab.modules.image import ImageGAN
from gan_lab.modules.prediction import VideoPredictionGAN
from gan_lab.modules.video import DiscriminatorSpec, VideoGAN

__all__ = [
    "DivergenceError",
    "GANModule",
    "ImageGAN",
    "VideoGAN",
    "DiscriminatorSpec",
    "VideoPredictionGAN",
]
