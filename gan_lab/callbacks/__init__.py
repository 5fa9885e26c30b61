"""Callbacks: checkpoints, samples, evaluation and progress on gan_lab's iteration counter."""

from gan_lab.callbacks.checkpoint import IterationCheckpoint
from gan_lab.callbacks.evaluation import Evaluation
from gan_lab.callbacks.progress import PlainProgressBar, progress_bar
from gan_lab.callbacks.samples import SampleWriter
from gan_lab.callbacks.trace import ParameterTrace

__all__ = [
    "Evaluation",
    "IterationCheckpoint",
    "ParameterTrace",
    "PlainProgressBar",
    "SampleWriter",
    "progress_bar",
]
