"""Reference rows of the CPU-scale video results in ``experiments/README.md``, computed with the
same evaluators and real clips as ``gan-lab eval`` on a run's checkpoint:

    python experiments/video_baselines.py prediction CKPT   # blank frame, copy the last frame
    python experiments/video_baselines.py fvd CKPT          # real held-out clips as "generated"

``prediction`` scores two trivial predictors of the checkpoint's held-out clips (``split=val``)
with ``metrics=[prediction]`` (``future_frames=2``): every pixel background (−1), and the last
context frame repeated. ``fvd`` scores 2,048 clips of the held-out digits with
``fvd_mmnistnet_16f`` against the run's real training clips: what a perfect generator gets.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import Tensor

from gan_lab.build import load_checkpoint
from gan_lab.data.base import first_samples
from gan_lab.metrics import FVD, EvalContext, PredictionQuality, Score
from gan_lab.metrics.features import mmnistnet


class StandIn:
    """What the evaluators read of a model, answered without one: ``sample`` returns fixed
    clips in order, ``predict`` applies a rule to the context."""

    generator_ema = None
    conditional = False
    iteration = 0
    device = torch.device("cpu")

    def __init__(self, clips: Tensor | None = None,
                 rule: Callable[[Tensor, int], Tensor] | None = None,
                 context_frames: int = 4) -> None:
        self.clips, self.used, self.rule = clips, 0, rule
        self.context_frames = context_frames

    def sample(self, n: int, **_) -> Tensor:
        out = self.clips[self.used : self.used + n]
        self.used += n
        return out

    def predict(self, context: Tensor, n_future: int, ema: bool = True) -> Tensor:
        return self.rule(context, n_future)

    def eval(self) -> StandIn:
        return self

    def train(self, mode: bool = True) -> StandIn:
        return self


def _datamodule(data_cfg: Mapping):
    return instantiate(OmegaConf.create(dict(data_cfg)), _convert_="all")


def prediction_baselines(ckpt: str) -> dict[str, list[Score]]:
    module = load_checkpoint(ckpt)
    data_cfg = dict(module.run_config["data"], split="val")
    rules = {
        "background": lambda c, n: torch.full_like(c[:, :, -1:].expand(-1, -1, n, -1, -1), -1.0),
        "copy_last": lambda c, n: c[:, :, -1:].expand(-1, -1, n, -1, -1),
    }
    return {
        name: PredictionQuality(future_frames=2)(EvalContext(
            module=StandIn(rule=rule, context_frames=module.context_frames),
            datamodule=_datamodule(data_cfg), data_config=data_cfg))
        for name, rule in rules.items()
    }


def real_clip_fvd(ckpt: str, n: int = 2048) -> list[Score]:
    data_cfg = dict(load_checkpoint(ckpt).run_config["data"])
    held_out = first_samples(dict(data_cfg, length=n), n, split="val")[:, :, :16]
    ctx = EvalContext(module=StandIn(clips=held_out), datamodule=_datamodule(data_cfg),
                      data_config=data_cfg)
    return FVD(mmnistnet, n_fake=n, n_real=n, frames=16)(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["prediction", "fvd"])
    parser.add_argument("ckpt")
    args = parser.parse_args()
    if args.what == "prediction":
        for name, scores in prediction_baselines(args.ckpt).items():
            print(name, {s.name: round(s.value, 3) for s in scores})
    else:
        for s in real_clip_fvd(args.ckpt):
            print(s.name, round(s.value, 1), s.card)


if __name__ == "__main__":
    main()
