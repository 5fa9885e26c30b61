"""gan_lab data modules: each yields ``(x in [-1, 1], y int64)`` batches and a :class:`DataSpec`."""

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.data.bouncing_shapes import (
    BouncingShapesClip,
    BouncingShapesDataModule,
    bouncing_shapes_clip,
)
from gan_lab.data.dirac import DiracDataModule
from gan_lab.data.image_folder import ImageFolderDataModule, UInt8ImageDataset
from gan_lab.data.mnist import MNISTDataModule, load_mnist, read_idx
from gan_lab.data.moving_mnist import (
    MovingMNISTClip,
    MovingMNISTDataModule,
    MovingMNISTDataset,
    MovingMNISTFileDataset,
    moving_mnist_clip,
)
from gan_lab.data.stacked_mnist import StackedMNISTDataModule
from gan_lab.data.toy import GaussianMixtureDataModule, Grid25DataModule, Ring8DataModule
from gan_lab.data.video_clips import VideoClipDataset
from gan_lab.data.video_files import VideoInfo
from gan_lab.data.video_folder import VideoFolderDataModule

__all__ = [
    "BouncingShapesClip",
    "BouncingShapesDataModule",
    "DataSpec",
    "DiracDataModule",
    "GANDataModule",
    "GaussianMixtureDataModule",
    "Grid25DataModule",
    "ImageFolderDataModule",
    "MNISTDataModule",
    "MovingMNISTClip",
    "MovingMNISTDataModule",
    "MovingMNISTDataset",
    "MovingMNISTFileDataset",
    "Ring8DataModule",
    "StackedMNISTDataModule",
    "UInt8ImageDataset",
    "VideoClipDataset",
    "VideoFolderDataModule",
    "VideoInfo",
    "bouncing_shapes_clip",
    "load_mnist",
    "moving_mnist_clip",
    "read_idx",
]
