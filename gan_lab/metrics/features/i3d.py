"""I3D trained on Kinetics-400 (Carreira & Zisserman 2017, arXiv:1705.07750), the network of
FVD (Unterthiner et al. 2018, arXiv:1812.01717).

What the reference uses: google-research's ``frechet_video_distance.py`` resizes every frame to
224×224 (``tf.image.resize_bilinear``), scales values to [-1, 1] and takes the TF-Hub module
``i3d-kinetics-400``'s default output: the 400 Kinetics logits (before the softmax), which I3D
computes per temporal position and averages over time. The PyTorch port used by StyleGAN-V
(``i3d_torchscript.pt``) returns the same 400-d logits with ``return_features=True``.

Weights are never downloaded. The TorchScript file is looked up in order: the ``path``
argument, ``$GAN_LAB_I3D``, ``<cache dir>/weights/i3d_torchscript.pt``. It is called as
StyleGAN-V does, ``net(x, rescale=False, resize=False, return_features=True)``, with gan_lab
doing the preprocessing: uint8 quantisation, grey repeated to RGB, frames resized bilinearly
to 224×224 (PyTorch ``interpolate``, ``align_corners=False``; TF1's ``resize_bilinear`` samples
without the half-pixel offset, a sub-pixel difference), values in [-1, 1], input
``(B, 3, T, 224, 224)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lab.metrics.features.base import (
    FeatureNetwork,
    file_sha256,
    find_weights,
    grey_to_rgb,
    load_torchscript,
    to_uint8_range,
)

I3D_ENV = "GAN_LAB_I3D"
I3D_FILE = "i3d_torchscript.pt"
I3D_SIZE = 224


def find_i3d_file(path: str | os.PathLike | None = None, cache: str | None = None) -> Path:
    """The I3D TorchScript file to use, or a ``FileNotFoundError`` saying which file is needed
    and where to put it."""
    return find_weights(
        "I3D", I3D_ENV, I3D_FILE, path, cache,
        hint="FVD needs the TorchScript I3D trained on Kinetics-400 that StyleGAN-V uses "
        "(400-d logits with return_features=True); on Moving MNIST, gan_lab's own network "
        "(metrics=[fvd_mmnistnet]) needs no file",
    )


def resize_frames(x: Tensor, size: int) -> Tensor:
    """Bilinear resize of every frame of ``(B, C, T, H, W)`` to ``size × size``."""
    b, c, t, h, w = x.shape
    if (h, w) == (size, size):
        return x
    frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    frames = F.interpolate(frames, size=(size, size), mode="bilinear", align_corners=False)
    return frames.reshape(b, t, c, size, size).permute(0, 2, 1, 3, 4)


class I3D(FeatureNetwork):
    """I3D Kinetics-400 logits ``(B, 400)`` of clips ``(B, 1|3, T, H, W)`` in [-1, 1]."""

    name = "i3d"
    standard = True
    num_features = 400
    resize = (
        f"uint8-quantised, grey repeated to RGB, bilinear to {I3D_SIZE}x{I3D_SIZE} per frame, "
        "values in [-1, 1]"
    )

    def __init__(self, module: torch.jit.ScriptModule, sha256: str, source: Path) -> None:
        super().__init__()
        self.net = module.eval()
        self.sha256 = sha256
        self.source = source

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 5:
            raise ValueError(f"I3D expects clips (B, C, T, H, W), got {tuple(x.shape)}")
        u = grey_to_rgb(to_uint8_range(x)) / 127.5 - 1
        v = resize_frames(u, I3D_SIZE)
        return self.net(v, rescale=False, resize=False, return_features=True).float()


def i3d(path: str | None = None, cache_dir: str | None = None) -> I3D:
    """Load the I3D TorchScript file found by :func:`find_i3d_file`."""
    file = find_i3d_file(path, cache_dir)
    module = load_torchscript(file, "I3D", f"StyleGAN-V's '{I3D_FILE}'")
    return I3D(module, file_sha256(file), file)
