"""The base of gan_lab's callbacks that act on its own iteration counter."""

from __future__ import annotations

import lightning as L


class IterationCallback(L.Callback):
    """Calls :meth:`run` once every ``every`` iterations (G updates; Lightning's batch hooks
    fire at every D update) and once more when training ends, unless that iteration was just
    handled or a signal stopped training (a preempted job keeps its grace time for the
    checkpoint: :class:`~gan_lab.callbacks.IterationCheckpoint`). Before it acts, the losses
    of the steps since the last check must be finite
    (:meth:`~gan_lab.modules.base.GANModule.check_finite`).

    Args:
        every: the interval in iterations.
        key: the config key of the callback, named in errors (``callbacks.samples``).
    """

    def __init__(self, every: int, key: str) -> None:
        if every < 1:
            raise ValueError(f"{key}.every must be >= 1, got {every}")
        self.every = every
        self._done_at: int | None = None

    def run(self, trainer: L.Trainer, pl_module) -> None:
        """What the callback does at its iterations."""
        raise NotImplementedError

    def _run(self, trainer: L.Trainer, pl_module) -> None:
        pl_module.check_finite()  # nothing is written of a diverged model
        self.run(trainer, pl_module)
        self._done_at = pl_module.iteration

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        it = pl_module.iteration
        if it > 0 and it % self.every == 0 and it != self._done_at:
            self._run(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if pl_module.iteration != self._done_at and pl_module.stopped_by is None:
            self._run(trainer, pl_module)
