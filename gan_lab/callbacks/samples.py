"""Sample files written during training and sent to the loggers."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only

from gan_lab.callbacks.base import IterationCallback
from gan_lab.checkpoints import preserved_rng
from gan_lab.media import write_samples


def log_media(trainer: L.Trainer, key: str, path: Path, iteration: int) -> None:
    """Send an image or video file to every logger that can show it."""
    is_video = path.suffix.lower() in {".gif", ".mp4"}
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            import wandb

            media = wandb.Video(str(path)) if is_video else wandb.Image(str(path))
            logger.experiment.log({key: media, "iteration": iteration})
        elif isinstance(logger, TensorBoardLogger) and not is_video:
            import numpy as np
            from PIL import Image

            image = np.asarray(Image.open(path).convert("RGB"))
            logger.experiment.add_image(key, image, iteration, dataformats="HWC")


# The sample file format of each data modality when ``fmt`` is not given.
DEFAULT_FORMATS = {"vector": "png", "image": "png", "video": "gif"}


class SampleWriter(IterationCallback):
    """Every ``every`` iterations (and at the end) writes ``n`` samples from a fixed seed.

    Files go to ``<dirpath>/iter_<iteration>.<fmt>`` and to the loggers under ``samples``;
    ``fmt=None`` follows the data: PNG grids (scatter plots for 2-D data) for images and
    vectors, GIF grids of clips for video. The same latents (and, for a prediction model, the
    same context clips) are used each time, so the files show one set of samples evolving; the
    EMA generator is used when there is one.
    """

    def __init__(
        self, dirpath: str, every: int = 500, n: int = 64, seed: int = 0,
        fmt: str | None = None, ema: bool = True,
    ) -> None:
        super().__init__(every, "callbacks.samples")
        self.dirpath = Path(dirpath)
        self.n = n
        self.seed = seed
        self.fmt = None if fmt is None else fmt.lstrip(".")
        self.ema = ema
        self._inputs: dict | None = None
        self.last_path: Path | None = None

    @rank_zero_only
    def run(self, trainer: L.Trainer, pl_module) -> None:
        it = pl_module.iteration
        with preserved_rng():
            if self._inputs is None:
                self._inputs = pl_module.sampling_inputs(self.n)
            samples = pl_module.sample(self.n, ema=self.ema, seed=self.seed, **self._inputs)
        fmt = self.fmt or DEFAULT_FORMATS[pl_module.spec.modality]
        path = write_samples(samples, pl_module.spec, self.dirpath / f"iter_{it:06d}.{fmt}")
        log_media(trainer, "samples", path, it)
        self.last_path = path
