"""VGAN: the two-stream video generator and 3-D convolutional discriminator of Vondrick,
Pirsiavash & Torralba 2016, "Generating Videos with Scene Dynamics", arXiv:1609.02612.

Generator (paper §3.1 and the authors' ``main.lua``), for ``z ∈ R^100``:

* foreground stream: 3-D transposed convolutions ``100 -> 512 -> 256 -> 128 -> 64`` (the first
  with kernel ``(T/16, 4, 4)`` onto a ``T/16 x 4 x 4`` volume, the others kernel 4, stride 2,
  padding 1), BatchNorm and ReLU, then two heads of the same kind: a video ``f`` (tanh) and a
  mask ``m`` (sigmoid, one channel);
* background stream: 2-D transposed convolutions with the same channels producing a static image
  ``b`` (tanh);
* output ``m ⊙ f + (1 - m) ⊙ b``, ``b`` replicated over time: ``3 x 32 x 64 x 64`` at full size;
* :meth:`VGANGenerator.forward_with_losses` returns the sparsity prior on the mask,
  ``λ · mean|m|`` with ``λ = 0.1`` (the code's ``nn.L1Penalty(0.1, sizeAverage=true)``).

Discriminator: 3-D convolutions ``C -> 64 -> 128 -> 256 -> 512`` (kernel 4, stride 2, padding
1), BatchNorm on every layer but the first, LeakyReLU(0.2), and a last convolution with kernel
``(T/16, 4, 4)`` to one logit. Saito et al. 2017 (TGAN) use the same critic layout.

Widths scale with ``width`` (64 in the paper: channels ``8w, 4w, 2w, w``). Any clip with
``H = W = 4·2^n`` and ``T`` divisible by ``2^n`` works (``n = 4`` for 64x64: ``T`` a multiple of
16); the first / last kernel covers the remaining ``T / 2^n`` frames.

Deviations: the discriminator ends in one logit for a sigmoid loss instead of the code's two
logits with softmax cross-entropy (the same model: the logit difference); initialisation
``N(0, 0.01)`` for every weight as in the code, BatchNorm scales ``N(1, 0.01)`` (the code:
0.02); BatchNorm ``eps`` PyTorch's 1e-5 (the code's discriminator: 1e-3); the discriminator may
use ``norm="layer"`` or ``"none"`` instead of BatchNorm (for gradient penalties / spectral norm).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from gan_lab.nets.base import Discriminator, Generator
from gan_lab.nets.layers import LEAKY_SLOPE, check_choice, dcgan_init_, make_norm
from gan_lab.nets.video.layers import check_width, doublings, reject_labels, video_shape

__all__ = ["VGANGenerator", "VGANDiscriminator", "video_plan"]

INIT_STD = 0.01  # the authors' weights_init: N(0, 0.01)


def video_plan(owner: str, data_shape: Sequence[int]) -> tuple[int, int, int, int]:
    """``(channels, n_doublings, first_frames, frame_size)`` for the VGAN-style layer plans:
    ``H = 4·2^n``, ``T = first_frames·2^n``."""
    c, t, h, _ = video_shape(owner, data_shape)
    n = doublings(owner, h)
    if t % 2**n:
        raise ValueError(
            f"{owner}: clips of {h}x{h} frames are built by {n} doublings, so the number of "
            f"frames must be a multiple of {2**n}; got T={t} (data_shape={tuple(data_shape)})"
        )
    return c, n, t // 2**n, h


def _up3d(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose3d(in_ch, out_ch, 4, 2, 1, bias=False), nn.BatchNorm3d(out_ch), nn.ReLU()
    )


def _up2d(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU()
    )


class VGANGenerator(Generator):
    """Two-stream generator: ``z (B, latent_dim)`` -> clips ``(B, C, T, H, W)`` in [-1, 1].

    Args:
        data_shape: ``(C, T, H, W)``: ``H = W = 4·2^n``, ``T`` a multiple of ``2^n``
            (paper: ``(3, 32, 64, 64)``).
        num_classes: must be 0 (the paper's model is unconditional).
        latent_dim: size of z (100).
        width: channels of the last hidden layer; earlier layers double it (64).
        mask_penalty: λ of the L1 sparsity prior on the mask (0.1).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        latent_dim: int = 100,
        width: int = 64,
        mask_penalty: float = 0.1,
    ) -> None:
        super().__init__(latent_dim, prior="normal")
        name = type(self).__name__
        reject_labels(name, num_classes)
        width = check_width(name, width)
        if mask_penalty < 0:
            raise ValueError(f"{name}: mask_penalty must be >= 0, got {mask_penalty}")
        channels, n, t0, size = video_plan(name, data_shape)
        self.data_shape = tuple(int(s) for s in data_shape)
        self.mask_penalty = float(mask_penalty)
        top = width * 2 ** (n - 1)

        video = [
            nn.ConvTranspose3d(latent_dim, top, (t0, 4, 4), bias=False),
            nn.BatchNorm3d(top),
            nn.ReLU(),
        ]
        image = [
            nn.ConvTranspose2d(latent_dim, top, 4, bias=False),
            nn.BatchNorm2d(top),
            nn.ReLU(),
        ]
        ch = top
        for _ in range(n - 1):
            video.append(_up3d(ch, ch // 2))
            image.append(_up2d(ch, ch // 2))
            ch //= 2
        self.video_stream = nn.Sequential(*video)
        self.foreground = nn.Sequential(nn.ConvTranspose3d(ch, channels, 4, 2, 1), nn.Tanh())
        self.mask = nn.Sequential(nn.ConvTranspose3d(ch, 1, 4, 2, 1), nn.Sigmoid())
        self.background = nn.Sequential(
            *image, nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()
        )
        dcgan_init_(self, std=INIT_STD)

    def streams(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Foreground ``(B, C, T, H, W)``, mask ``(B, 1, T, H, W)`` in [0, 1] and background
        ``(B, C, H, W)`` for ``z (B, latent_dim)``."""
        h = self.video_stream(z.view(z.shape[0], -1, 1, 1, 1))
        background = self.background(z.view(z.shape[0], -1, 1, 1))
        return self.foreground(h), self.mask(h), background

    def _compose(self, z: Tensor) -> tuple[Tensor, Tensor]:
        foreground, mask, background = self.streams(z)
        return mask * foreground + (1 - mask) * background.unsqueeze(2), mask

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """``z (B, latent_dim)`` -> ``m ⊙ f + (1 - m) ⊙ b`` ``(B, C, T, H, W)``."""
        return self._compose(z)[0]

    def forward_with_losses(
        self, z: Tensor, y: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Clips and ``{"mask_l1": λ · mean(m)}`` (``m >= 0``, so its mean is its mean |m|)."""
        video, mask = self._compose(z)
        return video, {"mask_l1": self.mask_penalty * mask.float().mean()}


class VGANDiscriminator(Discriminator):
    """3-D convolutional discriminator: clips ``(B, C, T, H, W)`` -> logits ``(B,)``.

    Args:
        data_shape: ``(C, T, H, W)`` as for :class:`VGANGenerator`.
        num_classes: must be 0.
        width: channels of the first layer; later layers double it (64).
        norm: ``"batch"`` (paper), ``"layer"`` (for gradient penalties) or ``"none"``.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        width: int = 64,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        reject_labels(name, num_classes)
        width = check_width(name, width)
        check_choice(name, "norm", norm, ("batch", "layer", "none"))
        channels, n, t0, _ = video_plan(name, data_shape)
        self.data_shape = tuple(int(s) for s in data_shape)
        layers: list[nn.Module] = [nn.Conv3d(channels, width, 4, 2, 1), nn.LeakyReLU(LEAKY_SLOPE)]
        ch = width
        for _ in range(n - 1):
            layers += [
                nn.Conv3d(ch, ch * 2, 4, 2, 1, bias=norm == "none"),
                make_norm(norm, ch * 2, 3),
                nn.LeakyReLU(LEAKY_SLOPE),
            ]
            ch *= 2
        self.blocks = nn.Sequential(*layers)
        self.out = nn.Conv3d(ch, 1, (t0, 4, 4))
        dcgan_init_(self, std=INIT_STD)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``x (B, C, T, H, W)`` -> logits ``(B,)``."""
        return self.out(self.blocks(x)).view(x.shape[0])
