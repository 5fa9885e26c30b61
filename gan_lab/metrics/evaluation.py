"""Running configured metrics on a model: the shared machinery of the evaluation callback and
``gan-lab eval``.

An *evaluator* (the ``_target_`` of a ``conf/metrics/*.yaml`` entry, e.g.
:class:`~gan_lab.metrics.scores.FID`) is a callable ``evaluator(ctx) -> list[Score]``. Every
:class:`Score` carries its protocol card: metric, feature network and its weights' sha256,
n_real, n_fake, resize, EMA or not, iteration and seed.

Under DDP every process calls the evaluators; samples are split across processes (each draws
its share with its own seed) and the torchmetrics states are gathered, so every process gets
the same values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset, Subset

from gan_lab.data.base import GANDataModule
from gan_lab.modules.base import GANModule


@dataclass
class EvalContext:
    """What an evaluator needs: the model, its data, and the protocol's settings.

    Attributes:
        data_config: the data set's resolved config (a cache key for real statistics).
        ema: sample the EMA generator (when the model has one).
        seed: seed of generated samples and of the choice of real samples.
        cache_dir: gan_lab's cache (None: ``$GAN_LAB_CACHE`` or ``~/.cache/gan_lab``).
    """

    module: GANModule
    datamodule: GANDataModule
    data_config: Mapping[str, Any]
    ema: bool = True
    seed: int = 0
    cache_dir: str | None = None
    batch_size: int = 256
    iteration: int = field(init=False)

    def __post_init__(self) -> None:
        self.iteration = int(self.module.iteration)

    @property
    def device(self) -> torch.device:
        return self.module.device

    @property
    def world(self) -> tuple[int, int]:
        """``(rank, world_size)`` of the running process group (``(0, 1)`` without one)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return 0, 1

    @property
    def uses_ema(self) -> bool:
        return self.ema and self.module.generator_ema is not None

    @property
    def streamed(self) -> bool:
        """Whether the data set is a stream (no fixed set of samples)."""
        return isinstance(self.datamodule.train_dataloader().dataset, IterableDataset)

    def card(self, metric: str, **fields: Any) -> dict[str, Any]:
        """A protocol card: the context's part plus ``fields`` (network, counts, resize)."""
        base = {
            "metric": metric,
            "feature_network": None,
            "weights_sha256": None,
            "n_real": None,
            "n_fake": None,
            "resize": None,
            "ema": self.uses_ema,
            "iteration": self.iteration,
            "seed": self.seed,
        }
        unknown = set(fields) - set(base) - EXTRA_CARD_FIELDS
        if unknown:
            raise KeyError(f"unknown protocol card fields: {sorted(unknown)}")
        return {**base, **fields}

    def shard(self, n: int) -> range:
        """The indices of ``range(n)`` this process handles (strided across processes)."""
        rank, world = self.world
        return range(rank, n, world)

    def generated(self, n: int) -> Iterator[Tensor]:
        """This process's share of ``n`` generated samples, in batches in model space.

        Sample ``i`` gets class ``i % num_classes`` for a conditional model, so classes are
        balanced; batches are drawn with seeds derived from ``(seed, rank, batch)``.
        """
        rank, _ = self.world
        mine = self.shard(n)
        for b, start in enumerate(range(0, len(mine), self.batch_size)):
            idx = torch.tensor(mine[start : start + self.batch_size])
            y = idx % self.module.spec.num_classes if self.module.conditional else None
            seq = np.random.SeedSequence([self.seed, rank, b])
            seed = int(seq.generate_state(1)[0])
            yield self.module.sample(
                len(idx), ema=self.ema, seed=seed, y=y, batch_size=self.batch_size
            )

    def real(self, n: int | None) -> tuple[Iterator[Tensor], int]:
        """This process's share of ``n`` real samples (all of a finite data set when ``None``
        or larger), in batches in model space, and the total number used.

        Finite data sets: the first ``n`` of a permutation seeded with ``seed``. Streams
        (toy mixtures, generated videos): the first ``n`` samples of each process's stream.
        """
        with self.datamodule.from_start():  # the same real samples wherever training is
            loader = self.datamodule.train_dataloader()
        dataset = loader.dataset
        if isinstance(dataset, IterableDataset):
            if n is None:
                raise ValueError("n_real must be set for a streamed data set (it has no size)")
            return _take(loader, len(self.shard(n))), n
        total = len(dataset)
        n = total if n is None else min(n, total)
        order = torch.randperm(total, generator=torch.Generator().manual_seed(self.seed))[:n]
        mine = Subset(dataset, order[list(self.shard(n))].tolist())
        batches = DataLoader(mine, batch_size=self.batch_size, shuffle=False)
        return (batch[0] for batch in batches), n


EXTRA_CARD_FIELDS = {
    "num_modes", "threshold", "classifier", "subsets", "subset_size", "splits", "frames",
    "offset", "context_frames", "data", "k",
}


def _take(loader, n: int) -> Iterator[Tensor]:
    left = n
    for batch in loader:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        yield x[:left]
        left -= len(x[:left])
        if left <= 0:
            return


@dataclass(frozen=True)
class Score:
    """One metric value and its protocol card.

    Attributes:
        higher_is_better: the direction in which the metric improves (``None`` for values that
            have none, such as a standard deviation over subsets).
    """

    name: str
    value: float
    card: dict[str, Any]
    higher_is_better: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, **self.card}


class Evaluator(Protocol):
    """What ``conf/metrics/*.yaml`` entries instantiate to."""

    def __call__(self, ctx: EvalContext) -> list[Score]: ...


def run_evaluators(evaluators: Mapping[str, Evaluator], ctx: EvalContext) -> list[Score]:
    """Run every evaluator with ``ctx`` (model in eval mode, no gradients); names must be
    unique across evaluators."""
    scores: list[Score] = []
    was_training = ctx.module.training
    ctx.module.eval()
    try:
        with torch.no_grad():
            for evaluator in evaluators.values():
                scores += evaluator(ctx)
    finally:
        ctx.module.train(was_training)
    names = [s.name for s in scores]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"two metrics report the same name(s) {duplicated}: remove one")
    return scores


def compact_count(n: int) -> str:
    """``50000 → "50k"``, ``2048 → "2048"``, ``10000 → "10k"`` (StyleGAN's metric names)."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def write_metrics_json(scores: list[Score], path: str | Path, **header: Any) -> Path:
    """``{**header, "scores": {name: {"value": ..., <card>}}}`` as JSON at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {**header, "scores": {s.name: s.to_dict() for s in scores}}
    path.write_text(json.dumps(body, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {value!r}")
