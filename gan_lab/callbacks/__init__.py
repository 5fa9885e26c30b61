"""Callbacks: checkpoints, samples and evaluation on gan_lab's iteration counter."""

from gan_lab.callbacks.checkpoint import IterationCheckpoint
from gan_lab.callbacks.evaluation import Evaluation
from gan_lab.callbacks.samples import SampleWriter

__all__ = ["Evaluation", "IterationCheckpoint", "SampleWriter"]
