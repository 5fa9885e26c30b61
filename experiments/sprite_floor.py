"""What limits the quickstart's FVD: the renderer, the motion or the drawn digits?

Scores a trained ``SpriteVideoGenerator`` checkpoint with ``fvd_mmnistnet`` (the protocol of
``gan-lab eval``: 2,048 clips, EMA generator, seed 0) as it is, and with one part of it replaced:

* ``real digits, <renderer>``: the run's paths, but each sprite a random MNIST training digit,
  drawn by the stride renderer (``antialias: false``) or on the 28 px canvas averaged down
  (``antialias: true``), or averaged down first and then resampled (quickstart stage E's
  renderer); with ``snapped`` the positions are rounded down to the data's grid
  (whole pixels of the 64x64 canvas), as Moving MNIST's generator draws them. The score is the
  floor that a generator drawing perfect digits could reach along these paths;
* ``constant velocity``: the run's own sprites, each moving at the velocity of its first frame
  (bouncing as before), and at the data's speed (1.8 px per frame on 32x32).

    python experiments/sprite_floor.py runs/qs/it6k_s2/checkpoints/last.ckpt
"""

from __future__ import annotations

import argparse
import copy

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn

from gan_lab.build import load_checkpoint
from gan_lab.cli import compose
from gan_lab.data.mnist import load_mnist
from gan_lab.evaluate import eval_context
from gan_lab.metrics.evaluation import run_evaluators
from gan_lab.nets.video.sprites import SpriteVideoGenerator


class RealDigits(nn.Module):
    """Stands in for the sprite generator: random MNIST training digits in [-1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("digits", load_mnist("train")[0][:, None].float() / 127.5 - 1)
        self.rng = torch.Generator().manual_seed(0)

    def forward(self, content: Tensor) -> Tensor:
        return self.digits[torch.randint(len(self.digits), (len(content),), generator=self.rng)]


class Snapped(SpriteVideoGenerator):
    """Positions rounded down to whole pixels of the drawing canvas."""

    def paths(self, z: Tensor) -> Tensor:
        return torch.floor(super().paths(z) * 64 / self.data_shape[2]) * self.data_shape[2] / 64


class PooledFirst(SpriteVideoGenerator):
    """The first ``antialias`` (quickstart stage E): each sprite averaged down to its drawn size,
    then resampled at its sub-pixel position on the frame itself."""

    def render(self, sprites: Tensor, paths: Tensor) -> Tensor:
        return super().render(F.adaptive_avg_pool2d(sprites, round(self.sprite_size)), paths)


class SnappedPooledFirst(Snapped, PooledFirst):
    """Stage E's renderer at the data's positions."""


class ConstantVelocity(SpriteVideoGenerator):
    """Each sprite moves at its first frame's velocity (``speed_px``: rescaled to that norm)."""

    speed_px: float | None = None

    def velocities(self, z: Tensor) -> Tensor:
        v = super().velocities(z)[:, :1]
        if self.speed_px is not None:
            v = self.speed_px * v / v.norm(dim=-1, keepdim=True)
        return v.expand(-1, self.data_shape[1], -1)


def variant(g: SpriteVideoGenerator, cls: type | None = None, digits: bool = False,
            supersample: int | None = None, speed_px: float | None = None) -> SpriteVideoGenerator:
    """A copy of ``g`` as ``cls``, drawing real digits, with another renderer."""
    g = copy.deepcopy(g)
    if cls is not None:
        g.__class__ = cls
        g.speed_px = speed_px
    if digits:
        g.image = RealDigits()
    if supersample is not None:
        g.supersample = supersample
    return g


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ckpt")
    args = parser.parse_args()
    module = load_checkpoint(args.ckpt)
    g = module.sampler(ema=True)
    if not isinstance(g, SpriteVideoGenerator):
        raise SystemExit(f"{args.ckpt}: the generator is {type(g).__name__}, not "
                         "SpriteVideoGenerator")
    data_speed = 3.6 * g.data_shape[2] / 64
    variants = {
        "the run's generator": g,
        "real digits, stride renderer": variant(g, digits=True, supersample=1),
        "real digits, stride renderer, snapped": variant(g, Snapped, digits=True, supersample=1),
        "real digits, each averaged down, then resampled (stage E)":
            variant(g, PooledFirst, digits=True, supersample=1),
        "real digits, each averaged down, then resampled (stage E), snapped":
            variant(g, SnappedPooledFirst, digits=True, supersample=1),
        "real digits, drawn at 28 px and averaged down": variant(g, digits=True, supersample=2),
        "real digits, drawn at 28 px and averaged down, snapped":
            variant(g, Snapped, digits=True, supersample=2),
        "own sprites, constant velocity": variant(g, ConstantVelocity),
        f"own sprites, constant velocity at {data_speed:g} px per frame":
            variant(g, ConstantVelocity, speed_px=data_speed),
    }
    cfg = compose("eval", [f"ckpt={args.ckpt}", "metrics=[fvd_mmnistnet]"])  # eval's protocol
    evaluators = instantiate(cfg.metrics, _convert_="all")
    ctx = eval_context(module, cfg)
    print("| variant | fvd_mmnistnet_16f |\n|---|---|")
    for name, net in variants.items():
        module.generator_ema = net
        print(f"| {name} | {run_evaluators(evaluators, ctx)[0].value:.1f} |", flush=True)


if __name__ == "__main__":
    main()
