"""Callbacks: checkpoints and samples on gan_lab's iteration counter."""

from gan_lab.callbacks.checkpoint import IterationCheckpoint
from gan_lab.callbacks.samples import SampleWriter

__all__ = ["IterationCheckpoint", "SampleWriter"]
