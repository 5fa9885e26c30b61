"""Timing of training iterations, shared by the benchmarks that run whole training processes
(``threads.py``, ``train_speed.py``).

An iteration is one value of gan_lab's ``iteration`` counter (``n_critic`` D updates and one G
update). The clock reads the time at the end of iteration ``warmup`` and at the end of the last
one, so start-up, the first iterations (allocations, caches, lazy imports) and the end of the
run (last checkpoint, samples, teardown) stay outside; a GPU that the process uses is
synchronized at those two points only. With ``profile``, the same interval is profiled
(``cProfile``, written where ``profile`` says) to find where the time goes; a profiled run's
timing is not a measurement (the profiler slows Python code several times more than torch's).
"""

from __future__ import annotations

import cProfile
import json
import resource
import time
from pathlib import Path

import lightning as L
import torch

WARMUP = 20


class IterationClock:
    """Wall and process CPU seconds per iteration from the end of iteration ``warmup`` to the
    end of iteration ``last``; :meth:`tick` after every update with the iteration counter.
    With ``profile`` (a path), that interval is profiled and the statistics written there."""

    def __init__(self, warmup: int, last: int, profile: str | Path | None = None) -> None:
        if last <= warmup:
            raise ValueError(f"{last} iterations leave none to time after {warmup} of warm-up")
        self.warmup, self.last = warmup, last
        self.stamps: dict[int, tuple[float, float]] = {}
        self.profile = Path(profile) if profile else None
        self._profiler = cProfile.Profile() if profile else None

    def tick(self, iteration: int) -> None:
        if iteration in (self.warmup, self.last) and iteration not in self.stamps:
            if self._profiler is not None and iteration == self.last:
                self._profiler.disable()
                self._profiler.dump_stats(self.profile)
            if torch.cuda.is_initialized():
                torch.cuda.synchronize()
            self.stamps[iteration] = (time.perf_counter(), time.process_time())
            if self._profiler is not None and iteration == self.warmup:
                self._profiler.enable()

    def result(self) -> dict[str, float]:
        """``s_per_it`` (wall), ``cpu_s_per_it`` and the process's peak resident memory so
        far, ``peak_rss_mib`` (Linux reports ``ru_maxrss`` in KiB)."""
        (wall0, cpu0), (wall1, cpu1) = self.stamps[self.warmup], self.stamps[self.last]
        n = self.last - self.warmup
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"s_per_it": (wall1 - wall0) / n, "cpu_s_per_it": (cpu1 - cpu0) / n,
                "peak_rss_mib": rss}

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.result()))


class IterationTimer(L.Callback):
    """An :class:`IterationClock` as a Lightning callback, up to the module's
    ``max_iterations``; writes its result as JSON to ``path`` when training ends. Injected into
    a ``gan-lab train`` process as ``+callbacks.zz_timer={_target_: timing.IterationTimer,
    path: ...}`` (last, after the other callbacks; ``benchmarks/`` on ``PYTHONPATH``);
    ``profile`` as for :class:`IterationClock`."""

    def __init__(self, path: str, warmup: int = WARMUP, profile: str | None = None) -> None:
        self.path, self.warmup, self.profile = Path(path), warmup, profile
        self.clock: IterationClock | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        self.clock = IterationClock(self.warmup, pl_module.max_iterations, self.profile)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.clock.tick(pl_module.iteration)

    def on_train_end(self, trainer, pl_module) -> None:
        self.clock.write(self.path)
