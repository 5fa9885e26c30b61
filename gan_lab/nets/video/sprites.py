"""A generator of clips made of moving sprites: MoCoGAN's split of content and motion, with the
content of each object a sprite and its motion a path across the frame.

After MoCoGAN (Tulyakov, Liu, Yang & Kautz 2018, arXiv:1707.04993: a content code fixed per
clip, motion codes from a GRU driven by per-frame noise) and the decomposition of Moving MNIST
into objects with a content and a pose trajectory of DDPAE (Hsieh, Liu, Huang, Fei-Fei &
Niebles 2018, "Learning to Decompose and Disentangle Representations for Video Prediction",
arXiv:1806.04166), rendered with a spatial transformer (Jaderberg, Simonyan, Zisserman &
Kavukcuoglu 2015, arXiv:1506.02025):

* ``num_sprites`` objects per clip; object ``k`` has a content code ``z_C^k`` and a motion code;
* its sprite is ``G_I(z_C^k)``, a DCGAN image generator of ``C x 28 x 28`` in [0, 1] (28: an
  MNIST digit), the same in every frame;
* its path: a start ``p_0 = E · sigmoid(a)`` and a velocity per frame
  ``v_t = speed · tanh(W h_t)`` read from the states ``h_t`` of a GRU driven by per-frame noise;
  ``p_t = reflect(p_0 + Σ_{s ≤ t} v_s)``, folded back into ``[0, E]`` (``E`` = frame size minus
  sprite size) as a path that bounces off the borders;
* frame ``t`` draws every sprite at ``p_t`` with a spatial transformer (bilinear sampling, so
  the frame is differentiable in the sprites and the paths) on a black background and merges
  them by maximum, as Moving MNIST's generator merges its digits; values are mapped to [-1, 1].
  With ``antialias``, a sprite drawn smaller than 28 px is drawn at its own 28 px on a canvas
  ``28 / sprite_size`` times larger, merged there and averaged down over blocks, as Moving MNIST's
  frames are drawn on 64×64 and averaged down; without, the 28 px sprite is sampled at a coarser
  stride: the block average at whole-pixel positions, but at half-pixel positions one pixel in
  four, so strokes between the samples are skipped (a drawn digit flickers as it moves).

The sprite is drawn at ``sprite_size`` pixels (28 on a 64×64 frame, 14 on 32×32: the digit's
size in Moving MNIST's data at that resolution); ``speed`` bounds a velocity component in pixels
per frame (the data move 3.6 px per frame on 64×64).

Deviations from MoCoGAN: the image generator draws objects, not frames, and motion is
translation only; so frames of a clip share their content exactly. Fit for data made of moving
objects on a black background (Moving MNIST, bouncing shapes), not for general video.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.nets.base import Generator, require_labels
from gan_lab.nets.dcgan import DCGANGenerator
from gan_lab.nets.video.layers import check_width, video_shape

__all__ = ["SpriteVideoGenerator", "reflect"]

SPRITE = 28  # the sprites' own resolution (an MNIST digit)


def reflect(x: Tensor, extent: float) -> Tensor:
    """``x`` folded into ``[0, extent]`` by reflections at both ends (a triangle wave): the
    position of a point that bounces between two walls."""
    period = 2 * extent
    return extent - (torch.remainder(x, period) - extent).abs()


class SpriteVideoGenerator(Generator):
    """``z (B, latent_dim)`` -> clips ``(B, C, T, H, W)`` in [-1, 1] of moving sprites.

    Args:
        data_shape: ``(C, T, H, W)`` with ``H = W``.
        num_classes: must be 0 (unconditional).
        num_sprites: objects per clip (2 for Moving MNIST).
        content_dim: size of each sprite's content code.
        motion_dim: size of the GRU state and of its per-frame noise.
        width: channels of the sprite generator's last hidden layer.
        sprite_size: side of a drawn sprite in pixels (``None``: 28 · H / 64).
        speed: largest velocity component in pixels per frame (``None``: 3.6 · H / 64 · 1.5).
        antialias: draw on a canvas at the sprites' own resolution and average it down
            (``28 / sprite_size`` must be a whole number: 2 on 32×32 frames).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int = 0,
        num_sprites: int = 2,
        content_dim: int = 32,
        motion_dim: int = 8,
        width: int = 32,
        sprite_size: float | None = None,
        speed: float | None = None,
        antialias: bool = False,
    ) -> None:
        name = type(self).__name__
        channels, frames, size, _ = video_shape(name, data_shape)
        if num_classes:
            raise ValueError(f"{name} is unconditional: model.conditional must be false")
        if num_sprites < 1 or content_dim < 1 or motion_dim < 1:
            raise ValueError(f"{name}: num_sprites, content_dim and motion_dim must be >= 1")
        self.sprite_size = float(sprite_size or SPRITE * size / 64)
        if not 0 < self.sprite_size < size:
            raise ValueError(f"{name}: sprite_size {self.sprite_size} must fit {size}x{size}")
        per_sprite = content_dim + 2 + motion_dim * (frames + 1)
        super().__init__(num_sprites * per_sprite, prior="normal")
        self.data_shape = (channels, frames, size, size)
        self.num_sprites, self.content_dim, self.motion_dim = num_sprites, content_dim, motion_dim
        self.per_sprite = per_sprite
        self.speed = float(speed if speed is not None else 1.5 * 3.6 * size / 64)
        factor = SPRITE / self.sprite_size
        if antialias and abs(factor - round(factor)) > 1e-6:
            raise ValueError(f"{name}: antialias draws on a canvas {SPRITE}/sprite_size times "
                             f"larger, which must be a whole number; sprite_size is "
                             f"{self.sprite_size} (use antialias: false)")
        self.supersample = round(factor) if antialias else 1  # canvas pixels per frame pixel
        self.image = DCGANGenerator(data_shape=(channels, SPRITE, SPRITE),
                                    latent_dim=content_dim, width=check_width(name, width))
        self.recurrent = nn.GRUCell(motion_dim, motion_dim)
        self.velocity = nn.Linear(motion_dim, 2)

    def velocities(self, z: Tensor) -> Tensor:
        """Velocities ``(B·S, T, 2)`` in pixels per frame, ``(y, x)``, of packed per-sprite
        latents ``z (B·S, per_sprite)``: the GRU's states read out, bounded by ``speed``."""
        c, m, frames = self.content_dim, self.motion_dim, self.data_shape[1]
        h = z[:, c + 2 : c + 2 + m]
        noise = z[:, c + 2 + m :].reshape(len(z), frames, m)
        steps = []
        for t in range(frames):
            h = self.recurrent(noise[:, t], h)
            steps.append(self.speed * torch.tanh(self.velocity(h)))
        return torch.stack(steps, dim=1)

    def paths(self, z: Tensor) -> Tensor:
        """Top-left positions ``(B·S, T, 2)`` in pixels, ``(y, x)``: the start plus the summed
        :meth:`velocities`, folded back at the borders."""
        c = self.content_dim
        extent = self.data_shape[2] - self.sprite_size
        start = extent * torch.sigmoid(z[:, c : c + 2])
        return reflect(start[:, None] + self.velocities(z).cumsum(dim=1), extent)

    def render(self, sprites: Tensor, paths: Tensor) -> Tensor:
        """Sprites ``(N, C, 28, 28)`` in [0, 1] drawn along ``paths (N, T, 2)`` (frame pixels) on
        black: ``(N, T, C, H·f, W·f)`` on the drawing canvas, ``f = self.supersample``."""
        n, frames = paths.shape[:2]
        f = self.supersample
        size, s = self.data_shape[2] * f, self.sprite_size * f
        y, x = (f * paths).reshape(n * frames, 2).unbind(1)
        # output pixel centre (u, v) reads sprite coordinates (u - y, v - x), scaled by 28 / s:
        # affine_grid's grid for theta = [[size/s, 0, (size - 2x)/s - 1], [0, size/s, ...]],
        # built by broadcasting (a translation needs no (N, H·W, 3) x (N, 3, 2) product)
        pixel = torch.arange(size, dtype=sprites.dtype, device=sprites.device)
        centres = (2 * pixel + 1) / size - 1  # pixel centres in [-1, 1]
        gx = (size / s) * centres + ((size - 2 * x) / s - 1)[:, None]  # (N·T, W)
        gy = (size / s) * centres + ((size - 2 * y) / s - 1)[:, None]  # (N·T, H)
        grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
        source = sprites.repeat_interleave(frames, dim=0)
        drawn = F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros",
                              align_corners=False)
        return drawn.reshape(n, frames, *drawn.shape[1:])

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        require_labels(self, 0, y)
        b, k = len(z), self.num_sprites
        per = z.reshape(b * k, self.per_sprite)
        sprites = (self.image(per[:, : self.content_dim]) + 1) / 2  # tanh -> [0, 1]
        frames = self.render(sprites, self.paths(per))  # (B·S, T, C, H, W)
        frames = frames.reshape(b, k, *frames.shape[1:]).amax(dim=1)  # merged by maximum
        if self.supersample > 1:  # the canvas averaged down to the frame
            frames = F.avg_pool2d(frames.flatten(0, 1), self.supersample)
            frames = frames.reshape(b, -1, *frames.shape[1:])
        return (frames * 2 - 1).transpose(1, 2)  # (B, C, T, H, W) in [-1, 1]
