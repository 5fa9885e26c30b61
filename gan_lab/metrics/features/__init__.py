"""Feature networks of the metrics: standard ones read from local files (InceptionV3) and
domain ones shipped with gan_lab (``mnistnet``, ``mmnistnet``), and I3D for FVD."""

from gan_lab.metrics.features.base import FeatureNetwork, cache_dir, file_sha256, state_sha256
from gan_lab.metrics.features.i3d import I3D, i3d
from gan_lab.metrics.features.inception import InceptionV3, inception_v3
from gan_lab.metrics.features.mnist import MNISTNet, mnistnet, train_mnistnet
from gan_lab.metrics.features.moving_mnist import MovingMNISTNet, mmnistnet, train_mmnistnet

__all__ = [
    "FeatureNetwork",
    "I3D",
    "InceptionV3",
    "MNISTNet",
    "MovingMNISTNet",
    "cache_dir",
    "file_sha256",
    "i3d",
    "inception_v3",
    "mmnistnet",
    "mnistnet",
    "state_sha256",
    "train_mmnistnet",
    "train_mnistnet",
]
