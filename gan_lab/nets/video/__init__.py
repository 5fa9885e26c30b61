"""Video generators and discriminators (plain ``nn.Module``s on clips ``(B, C, T, H, W)``).

* :mod:`~gan_lab.nets.video.vgan` - Vondrick et al. 2016 (two-stream G, 3-D conv D).
* :mod:`~gan_lab.nets.video.tgan` - Saito et al. 2017 (temporal + image G).
* :mod:`~gan_lab.nets.video.mocogan` - Tulyakov et al. 2018 (motion/content G, image and video D).
* :mod:`~gan_lab.nets.video.dvdgan` - after Clark et al. 2019 (ConvGRU G, spatial and temporal D).
* :mod:`~gan_lab.nets.video.mathieu` - Mathieu et al. 2016 (multi-scale frame predictor and D).
* :mod:`~gan_lab.nets.video.sprites` - moving sprites, after MoCoGAN and DDPAE (Hsieh et al. 2018).
"""

from gan_lab.nets.video.dvdgan import (
    DVDGANGenerator,
    DVDGANSpatialDiscriminator,
    DVDGANTemporalDiscriminator,
)
from gan_lab.nets.video.mathieu import MathieuDiscriminator, MathieuGenerator
from gan_lab.nets.video.mocogan import (
    MoCoGANGenerator,
    MoCoGANVideoDiscriminator,
    PatchImageDiscriminator,
)
from gan_lab.nets.video.sprites import SpriteVideoGenerator
from gan_lab.nets.video.tgan import TGANGenerator
from gan_lab.nets.video.vgan import VGANDiscriminator, VGANGenerator

__all__ = [
    "VGANGenerator",
    "VGANDiscriminator",
    "TGANGenerator",
    "MoCoGANGenerator",
    "PatchImageDiscriminator",
    "MoCoGANVideoDiscriminator",
    "SpriteVideoGenerator",
    "DVDGANGenerator",
    "DVDGANSpatialDiscriminator",
    "DVDGANTemporalDiscriminator",
    "MathieuGenerator",
    "MathieuDiscriminator",
]
