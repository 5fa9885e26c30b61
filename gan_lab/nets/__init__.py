"""Generators and discriminators: plain ``nn.Module``s built from ``data_shape`` and
``num_classes`` (see :mod:`gan_lab.nets.base`)."""

from gan_lab.nets.base import Discriminator, Generator, dcgan_init_
from gan_lab.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lab.nets.dirac import DiracDiscriminator, DiracGenerator
from gan_lab.nets.layers import Maxout, ProjectionHead, make_norm
from gan_lab.nets.mlp import MLPDiscriminator, MLPGenerator
from gan_lab.nets.r3gan import R3GANDiscriminator, R3GANGenerator

__all__ = [
    "Generator",
    "Discriminator",
    "dcgan_init_",
    "make_norm",
    "Maxout",
    "ProjectionHead",
    "MLPGenerator",
    "MLPDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "DiracGenerator",
    "DiracDiscriminator",
    "R3GANGenerator",
    "R3GANDiscriminator",
]
