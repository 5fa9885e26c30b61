"""Callbacks: checkpoints, samples and evaluation on gan_lab's iteration counter."""

from gan_lab.callbacks.checkpoint import IterationCheckpoint
from gan_lab.callbacks.evaluation import Evaluation
from gan_lab.callbacks.samples import SampleWriter
from gan_lab.callbacks.trace import ParameterTrace

__all__ = ["Evaluation", "IterationCheckpoint", "ParameterTrace", "SampleWriter"]
