"""Checkpoints on gan_lab's own iteration counter."""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L


def save_checkpoint_atomic(trainer: L.Trainer, path: Path) -> None:
    """``trainer.save_checkpoint`` to ``path`` through a temporary file beside it, renamed on
    the global-zero process, so ``path`` is never left half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    trainer.save_checkpoint(tmp, weights_only=False)
    if trainer.is_global_zero:
        os.replace(tmp, path)


class IterationCheckpoint(L.Callback):
    """Writes ``<dirpath>/last.ckpt`` every ``every`` iterations and when training ends.

    The file is replaced atomically (written beside, then renamed), so an interrupted write
    or a run that diverges never leaves a broken or NaN ``last.ckpt`` behind: an exception
    (such as :class:`~gan_lab.modules.base.DivergenceError`) ends training without a save.
    Lightning's ``ModelCheckpoint`` counts ``global_step``, which a GAN advances once per
    optimizer, hence this callback.
    """

    def __init__(self, dirpath: str, every: int = 1000) -> None:
        if every < 1:
            raise ValueError(f"callbacks.checkpoint.every must be >= 1, got {every}")
        self.dirpath = Path(dirpath)
        self.every = every
        self._saved_at: int | None = None

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last.ckpt"

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        it = pl_module.iteration
        if it > 0 and it % self.every == 0 and it != self._saved_at:
            self.save(trainer, it)

    def on_train_end(self, trainer, pl_module) -> None:
        if pl_module.iteration != self._saved_at:
            self.save(trainer, pl_module.iteration)

    def save(self, trainer: L.Trainer, iteration: int) -> None:
        save_checkpoint_atomic(trainer, self.last_path)
        self._saved_at = iteration
