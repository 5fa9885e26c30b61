"""A trace of chosen scalar parameters over training, for small nets whose parameters are
the quantities of interest (the Dirac-GAN's ``θ`` and ``ψ``)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from gan_lab.callbacks.base import IterationCallback


class ParameterTrace(IterationCallback):
    """Writes ``iteration`` and the values of ``parameters`` (names in the module's
    ``named_parameters``, e.g. ``generator.theta``) to the CSV file ``path``: once before the
    first update (iteration 0) and after every ``every``-th iteration.

    Every named parameter must hold a single number; an unknown name fails at the start of
    training with the names that exist.
    """

    def __init__(self, path: str, parameters: Sequence[str], every: int = 1) -> None:
        super().__init__(every, "callbacks.trace")
        if not parameters:
            raise ValueError("callbacks.trace.parameters names no parameter")
        self.path = Path(path)
        self.parameters = list(parameters)

    def _values(self, pl_module) -> list[float]:
        named = dict(pl_module.named_parameters())
        missing = [n for n in self.parameters if n not in named]
        if missing:
            raise KeyError(f"callbacks.trace.parameters: {missing} not among the module's "
                           f"parameters {sorted(named)}")
        return [float(named[n].detach().reshape(())) for n in self.parameters]

    def _write(self, pl_module, header: bool = False) -> None:
        if pl_module.global_rank:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w" if header else "a", newline="") as f:
            writer = csv.writer(f)
            if header:
                writer.writerow(["iteration", *self.parameters])
            writer.writerow([pl_module.iteration, *self._values(pl_module)])

    def on_train_start(self, trainer, pl_module) -> None:
        self._write(pl_module, header=not self.path.is_file() or pl_module.iteration == 0)
        self._done_at = pl_module.iteration

    def run(self, trainer, pl_module) -> None:
        self._write(pl_module)
