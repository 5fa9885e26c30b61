"""gan_lab: GANs for images and video on PyTorch Lightning and Hydra.

Conventions used everywhere in the package:

* images are ``(B, C, H, W)`` and videos ``(B, C, T, H, W)``;
* every tensor a network sees or produces lies in ``[-1, 1]`` ("model space");
  a data module's :class:`~gan_lab.data.base.DataSpec` maps it back to data space.
"""

__version__ = "0.1.0"
