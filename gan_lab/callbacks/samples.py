"""Sample files written during training and sent to the loggers."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only

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


class SampleWriter(L.Callback):
    """Every ``every`` iterations (and at the end) writes ``n`` samples from a fixed seed.

    Files go to ``<dirpath>/iter_<iteration>.<fmt>`` (PNG grids or scatter plots; GIF/MP4 for
    video models) and to the loggers under ``samples``. The same latents are used each time,
    so the files show one set of samples evolving; the EMA generator is used when there is one.
    """

    def __init__(
        self, dirpath: str, every: int = 500, n: int = 64, seed: int = 0, fmt: str = "png",
        ema: bool = True,
    ) -> None:
        if every < 1:
            raise ValueError(f"callbacks.samples.every must be >= 1, got {every}")
        self.dirpath = Path(dirpath)
        self.every = every
        self.n = n
        self.seed = seed
        self.fmt = fmt.lstrip(".")
        self.ema = ema
        self._written_at: int | None = None
        self.last_path: Path | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        it = pl_module.iteration
        if it > 0 and it % self.every == 0 and it != self._written_at:
            self.write(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if pl_module.iteration != self._written_at:
            self.write(trainer, pl_module)

    @rank_zero_only
    def write(self, trainer: L.Trainer, pl_module) -> None:
        it = pl_module.iteration
        samples = pl_module.sample(self.n, ema=self.ema, seed=self.seed)
        path = write_samples(samples, pl_module.spec, self.dirpath / f"iter_{it:06d}.{self.fmt}")
        log_media(trainer, "samples", path, it)
        self._written_at = it
        self.last_path = path
