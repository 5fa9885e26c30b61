"""The contract every gan_lab data module keeps.

A batch is a pair ``(x, y)``: ``x`` in model space [-1, 1] with shape ``(B, *spec.shape)``
(``(B, D)`` vectors, ``(B, C, H, W)`` images or ``(B, C, T, H, W)`` videos) and ``y`` an int64
tensor ``(B,)`` of class labels (all zeros when the data has no classes).

The training loader is an endless stream whose batch ``b`` depends on ``(seed, b)`` only
(:mod:`gan_lab.data.order`), so a resumed run continues it exactly where it stopped
(:meth:`GANDataModule.resume_at`). Nothing in it draws from torch's global random generator,
which belongs to the training step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from gan_lab.data.order import BatchOrder


@dataclass(frozen=True)
class DataSpec:
    """What a model needs to know about its data.

    Attributes:
        shape: shape of one sample, without the batch dimension.
        num_classes: number of labels (0 when the data set has none).
        scale: data space is ``model space * scale`` (1.0 for images and videos, whose
            data space *is* [-1, 1]; toy 2D data are scaled into [-1, 1] for training).
    """

    shape: tuple[int, ...]
    num_classes: int = 0
    scale: float = 1.0

    @property
    def modality(self) -> str:
        """``"vector"``, ``"image"`` or ``"video"``, from the number of dimensions."""
        return {1: "vector", 3: "image", 4: "video"}[len(self.shape)]

    def to_data_space(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale

    def to_dict(self) -> dict:
        d = asdict(self)
        d["shape"] = list(self.shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DataSpec:
        return cls(shape=tuple(d["shape"]), num_classes=int(d["num_classes"]), scale=d["scale"])


class GANDataModule(L.LightningDataModule):
    """Base of gan_lab's data modules: a training loader and a :class:`DataSpec`.

    Subclasses set ``self.spec`` in ``__init__`` (the model is built from it before
    ``setup`` runs) and implement :meth:`train_dataloader`, which starts the stream after
    ``start_batch`` batches.
    """

    spec: DataSpec

    def __init__(self, batch_size: int = 64, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {batch_size}")
        if num_workers < 0:
            raise ValueError(f"data.num_workers must be >= 0, got {num_workers}")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        #: batches of the training stream already used (a resumed run starts after them)
        self.start_batch = 0

    def resume_at(self, batches: int) -> None:
        """Start the training stream after its first ``batches`` batches (those the run being
        resumed had consumed: its number of D updates)."""
        if batches < 0:
            raise ValueError(f"resume_at: batches must be >= 0, got {batches}")
        self.start_batch = int(batches)

    @contextmanager
    def from_start(self) -> Iterator[None]:
        """Within the block, :meth:`train_dataloader` starts the stream at its first batch (the
        real samples of an evaluation do not depend on where training is)."""
        start, self.start_batch = self.start_batch, 0
        try:
            yield
        finally:
            self.start_batch = start

    def process(self) -> tuple[int, int]:
        """``(rank, world_size)`` of this process in training (``(0, 1)`` outside it)."""
        if self.trainer is None:
            return 0, 1
        return self.trainer.global_rank, self.trainer.world_size

    def training_loader(self, dataset: Dataset, what: str, shuffle: bool = True,
                        positions: bool = False) -> DataLoader:
        """The endless training loader of ``dataset`` (:class:`~gan_lab.data.order.BatchOrder`):
        shuffled passes over a finite data set (``shuffle``), or a generated stream read in
        order; full batches only; ``positions`` passes ``(index, position)`` keys.

        ``what`` names the data and its size in the error raised when there are fewer items
        than a batch, e.g. ``"/data/faces has 12 readable images"``.
        """
        rank, world = self.process()
        if shuffle and len(dataset) // world < self.batch_size:
            raise ValueError(
                f"{what}, fewer than batch_size={self.batch_size}"
                + (f" per process ({world} processes)" if world > 1 else "")
                + " (the loader drops incomplete batches)"
            )
        order = BatchOrder(len(dataset) if shuffle else None, self.batch_size, self.seed,
                           self.start_batch, rank, world, positions)
        return DataLoader(
            dataset,
            batch_sampler=order,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            # the workers' base seed comes from here, not from torch's global generator
            generator=torch.Generator().manual_seed(self.seed),
        )


def first_samples(data_config: Mapping, n: int, split: str = "val") -> torch.Tensor:
    """The first ``n`` samples ``(n, *shape)`` of the training stream of the data set of a run's
    ``data`` config, rebuilt on ``split`` when it has that option (Moving MNIST, MNIST: the
    validation split by default, data the model never trained on); a data set without splits
    (a folder of videos) gives its own. Generated data sets give the same samples every time."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(dict(data_config))
    if "split" in cfg:
        cfg.split = split
    if "num_workers" in cfg:
        cfg.num_workers = 0
    datamodule = instantiate(cfg, _convert_="all")
    datamodule.setup("fit")
    batches = []
    for x, _ in datamodule.train_dataloader():  # endless: stops once n samples are in
        batches.append(x)
        if sum(len(b) for b in batches) >= n:
            return torch.cat(batches)[:n]
    raise AssertionError("unreachable: the training stream is endless")
