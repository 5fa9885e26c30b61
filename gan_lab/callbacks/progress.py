"""Progress on gan_lab's iteration counter: Rich's bar on a terminal, plain lines elsewhere.

Output redirected to a file (a log, CI, a SLURM job) gets one line every ``every`` iterations
or ``seconds`` seconds, whichever comes first, and at the first and the last iteration::

    iteration 200/1000 (20%) | 8.31 it/s | elapsed 0:00:25 | ETA 0:01:36 | loss/d 1.234 loss/g 0.953

Iterations are ``pl_module.iteration`` of ``pl_module.max_iterations`` (Lightning's
``global_step`` counts every optimizer step: ``n_critic + 1`` per GAN iteration); the rate and
the ETA come from the iterations since the previous line; the losses are the last ones logged
(every ``trainer.log_every_n_steps`` D steps).
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from lightning.pytorch.callbacks import ProgressBar, RichProgressBar

MODES = ("auto", "rich", "plain")


def progress_bar(
    mode: str = "auto", every: int | None = 100, seconds: float | None = 60.0
) -> ProgressBar:
    """The progress bar of a run: ``mode=auto`` gives Lightning's :class:`RichProgressBar` when
    standard output is a terminal and a :class:`PlainProgressBar` (``every``, ``seconds``)
    otherwise; ``rich`` and ``plain`` force one."""
    if mode not in MODES:
        raise ValueError(f"progress bar mode must be one of {MODES}, got {mode!r}")
    if mode == "rich" or (mode == "auto" and _is_terminal(sys.stdout)):
        return RichProgressBar()
    return PlainProgressBar(every=every, seconds=seconds)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


class PlainProgressBar(ProgressBar):
    """One line of progress every ``every`` iterations (``None``: no such rule) or whenever
    ``seconds`` have passed since the previous line (``None``: no such rule), and at the first
    and the last iteration; written to standard output (``stream`` to change it)."""

    def __init__(
        self, every: int | None = 100, seconds: float | None = 60.0, stream=None
    ) -> None:
        super().__init__()
        if every is not None and every < 1:
            raise ValueError(f"every must be >= 1 or null, got {every}")
        self.every, self.seconds, self.stream = every, seconds, stream
        self._enabled = True
        self._start = self._last = (0, 0.0)  # (iteration, monotonic time)
        self._seen = 0

    # ProgressBar's interface (the Trainer disables the bar on processes other than rank 0)
    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    @property
    def is_enabled(self) -> bool:
        return self._enabled

    @property
    def is_disabled(self) -> bool:
        return not self._enabled

    def print(self, *args, **kwargs) -> None:
        if self._enabled:
            print(*args, file=self.stream or sys.stdout, flush=True, **kwargs)

    # counting
    @staticmethod
    def _iteration(trainer, pl_module) -> int:
        return int(getattr(pl_module, "iteration", trainer.global_step))

    @staticmethod
    def _total(pl_module) -> int | None:
        total = getattr(pl_module, "max_iterations", None)
        return int(total) if total else None

    def on_train_start(self, trainer, pl_module) -> None:
        iteration = self._iteration(trainer, pl_module)
        self._start = self._last = (iteration, time.monotonic())
        self._seen = iteration

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        iteration = self._iteration(trainer, pl_module)
        if iteration == self._seen:  # a D step inside an iteration
            return
        self._seen = iteration
        now = time.monotonic()
        total = self._total(pl_module)
        due = (
            iteration == self._start[0] + 1
            or (total is not None and iteration >= total)
            or (self.every is not None and iteration % self.every == 0)
            or (self.seconds is not None and now - self._last[1] >= self.seconds)
        )
        if due:
            self.print(self.line(trainer, pl_module, iteration, total, now))
            self._last = (iteration, now)

    def on_train_end(self, trainer, pl_module) -> None:
        iteration = self._iteration(trainer, pl_module)
        if iteration != self._last[0]:  # stopped between two lines
            self.print(self.line(trainer, pl_module, iteration, self._total(pl_module),
                                 time.monotonic()))

    def line(self, trainer, pl_module, iteration: int, total: int | None, now: float) -> str:
        """``iteration i/total (p%) | r it/s | elapsed t | ETA e | loss/...`` (the parts that
        are known)."""
        done, since = iteration - self._last[0], now - self._last[1]
        rate = done / since if since > 0 and done > 0 else None
        parts = [f"iteration {iteration}/{total} ({100 * iteration / total:.0f}%)"
                 if total else f"iteration {iteration}"]
        parts.append(f"{rate:.3g} it/s" if rate else "- it/s")
        parts.append(f"elapsed {_clock(now - self._start[1])}")
        if total and rate:
            parts.append(f"ETA {_clock(max(total - iteration, 0) / rate)}")
        losses = {k: v for k, v in self.get_metrics(trainer, pl_module).items()
                  if k.startswith("loss/")}
        if losses:
            parts.append(" ".join(f"{k} {_number(v)}" for k, v in sorted(losses.items())))
        return " | ".join(parts)


def _number(value) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)
