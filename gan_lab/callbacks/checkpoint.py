"""Checkpoints on gan_lab's own iteration counter, and when a stop signal arrives."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import lightning as L
import torch

from gan_lab.callbacks.base import IterationCallback
from gan_lab.files import atomic_path

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def save_checkpoint_atomic(trainer: L.Trainer, path: Path) -> None:
    """``trainer.save_checkpoint`` to ``path`` through a temporary file beside it, renamed on
    the global-zero process, so ``path`` is never left half-written."""
    with atomic_path(path, rename=trainer.is_global_zero) as tmp:
        trainer.save_checkpoint(tmp, weights_only=False)


class IterationCheckpoint(IterationCallback):
    """Writes ``<dirpath>/last.ckpt`` every ``every`` iterations, when training ends, and when
    SIGTERM (what SLURM and Kubernetes send before preempting a job) or SIGINT (Ctrl-C) arrives.

    A signal lets the current D update finish, writes the checkpoint of that state and stops
    training; ``gan-lab train`` then exits with ``128 + signal`` (143 for SIGTERM, 130 for
    SIGINT), and ``resume=<dirpath>/last.ckpt`` continues exactly where it stopped. A second
    Ctrl-C stops at once, without a checkpoint. Under data parallelism the processes agree on
    the signal at every D update, so all of them stop at the same one.

    The file is replaced atomically (written beside, then renamed), so an interrupted write
    or a run that diverges never leaves a broken or NaN ``last.ckpt`` behind: an exception
    (such as :class:`~gan_lab.modules.base.DivergenceError`) ends training without a save.
    Lightning's ``ModelCheckpoint`` counts ``global_step``, which a GAN advances once per
    optimizer, hence this callback.
    """

    def __init__(self, dirpath: str, every: int = 1000) -> None:
        super().__init__(every, "callbacks.checkpoint")
        self.dirpath = Path(dirpath)
        self._signal: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last.ckpt"

    def run(self, trainer: L.Trainer, pl_module) -> None:
        save_checkpoint_atomic(trainer, self.last_path)

    # -------------------------------------------------------------------------------- signals
    def _on_signal(self, signum: int, frame) -> None:
        if self._signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C
        self._signal = signum
        log.warning("%s received: stopping after the current update, with a checkpoint "
                    "(Ctrl-C again to stop at once)", signal.Signals(signum).name)

    def on_train_start(self, trainer, pl_module) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:  # after Lightning's own SIGTERM handler, replacing it
                self._previous[signum] = signal.signal(signum, self._on_signal)

    def _restore_handlers(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def teardown(self, trainer, pl_module, stage: str) -> None:
        self._restore_handlers()

    def _signal_everywhere(self, trainer: L.Trainer) -> int | None:
        if trainer.world_size == 1:
            return self._signal
        flag = torch.tensor([self._signal or 0], device=trainer.strategy.root_device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return int(flag.item()) or None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        signum = self._signal_everywhere(trainer)
        if signum is None:
            return super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        self._restore_handlers()
        pl_module.stopped_by = signum
        self._run(trainer, pl_module)
        trainer.should_stop = True
        log.warning("stopped by %s at iteration %d (D update %d); checkpoint: %s",
                    signal.Signals(signum).name, pl_module.iteration, pl_module.d_steps,
                    self.last_path)
