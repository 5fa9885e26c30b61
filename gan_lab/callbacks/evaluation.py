"""Evaluation during training: configured metrics every N iterations and at the end, logged
to every logger as ``eval/<name>``, with the best checkpoint kept for one of them."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path

import lightning as L
import torch

from gan_lab.callbacks.base import IterationCallback
from gan_lab.callbacks.checkpoint import save_checkpoint_atomic
from gan_lab.checkpoints import preserved_rng
from gan_lab.metrics.evaluation import EvalContext, Evaluator, Score, run_evaluators

log = logging.getLogger(__name__)

class Evaluation(IterationCallback):
    """Runs ``metrics`` (evaluators from ``conf/metrics/``) every ``every`` iterations and
    when training ends, on the EMA generator unless ``ema=false``.

    Each value goes to every logger as ``eval/<name>`` (with ``iteration``), to
    ``trainer.callback_metrics`` (so ``train()`` returns the final values to sweepers), and,
    with its protocol card, to ``<dirpath>/metrics.jsonl``. When ``best`` names a reported
    metric, ``<checkpoint_dir>/best.ckpt`` holds the checkpoint of its best value so far
    (``best_mode`` min/max; when null, the metric's own direction,
    ``Score.higher_is_better``). With no metrics the callback does nothing.

    Args:
        cache_dir: gan_lab's cache folder (null: ``$GAN_LAB_CACHE`` or ``~/.cache/gan_lab``).
    """

    def __init__(
        self,
        metrics: Mapping[str, Evaluator] | None,
        dirpath: str,
        checkpoint_dir: str,
        every: int = 1000,
        ema: bool = True,
        seed: int = 0,
        best: str | None = None,
        best_mode: str | None = None,
        batch_size: int = 256,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__(every, "callbacks.evaluation")
        if best_mode not in (None, "min", "max"):
            raise ValueError(f"callbacks.evaluation.best_mode must be min or max, got {best_mode}")
        self.metrics = dict(metrics or {})
        if best is not None and not self.metrics:
            raise ValueError(
                "callbacks.evaluation.best is set but no metrics are: add metrics=[...]"
            )
        self.dirpath = Path(dirpath)
        self.checkpoint_dir = Path(checkpoint_dir)
        self.ema = ema
        self.seed = seed
        self.best = best
        self.best_mode = best_mode
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.best_value: float | None = None
        self.best_iteration: int | None = None
        self.last_scores: list[Score] = []

    @property
    def best_path(self) -> Path:
        return self.checkpoint_dir / "best.ckpt"

    def run(self, trainer: L.Trainer, pl_module) -> None:
        if self.metrics:
            self.evaluate(trainer, pl_module)

    def evaluate(self, trainer: L.Trainer, pl_module) -> list[Score]:
        """Run the metrics now, log them and update ``best.ckpt``."""
        ctx = EvalContext(
            module=pl_module,
            datamodule=trainer.datamodule,
            data_config=(pl_module.run_config or {}).get("data", {}),
            ema=self.ema,
            seed=self.seed,
            cache_dir=self.cache_dir,
            batch_size=self.batch_size,
        )
        with preserved_rng():
            scores = run_evaluators(self.metrics, ctx)
        self.last_scores = scores
        values = {f"eval/{s.name}": s.value for s in scores}
        for key, value in values.items():
            trainer.callback_metrics[key] = torch.tensor(value)
        for logger in trainer.loggers:
            logger.log_metrics({**values, "iteration": pl_module.iteration}, trainer.global_step)
        if trainer.is_global_zero:
            self.dirpath.mkdir(parents=True, exist_ok=True)
            record = {"iteration": pl_module.iteration,
                      "scores": {s.name: s.to_dict() for s in scores}}
            with open(self.dirpath / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
        log.info("eval @ %d: %s", pl_module.iteration,
                 ", ".join(f"{s.name}={s.value:.4g}" for s in scores))
        if self.best is not None:
            self._update_best(trainer, scores, pl_module.iteration)
        return scores

    def _update_best(self, trainer: L.Trainer, scores: list[Score], iteration: int) -> None:
        by_name = {s.name: s.value for s in scores}
        if self.best not in by_name:
            raise KeyError(
                f"callbacks.evaluation.best={self.best!r} is not a reported metric; "
                f"reported: {sorted(by_name)}"
            )
        value = by_name[self.best]
        if self.best_mode is None:
            higher = next(s.higher_is_better for s in scores if s.name == self.best)
            if higher is None:
                raise ValueError(f"{self.best!r} has no direction of improvement: set "
                                 "callbacks.evaluation.best_mode=min|max")
            self.best_mode = "max" if higher else "min"
        if math.isnan(value):
            return
        better = (
            self.best_value is None
            or (value < self.best_value if self.best_mode == "min" else value > self.best_value)
        )
        if better:
            self.best_value, self.best_iteration = value, iteration
            trainer.callback_metrics[f"eval/best_{self.best}"] = torch.tensor(value)
            save_checkpoint_atomic(trainer, self.best_path)

    def state_dict(self) -> dict:
        return {"best_value": self.best_value, "best_iteration": self.best_iteration}

    def load_state_dict(self, state_dict: dict) -> None:
        self.best_value = state_dict.get("best_value")
        self.best_iteration = state_dict.get("best_iteration")
