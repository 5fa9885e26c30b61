"""The contract every gan_lab data module keeps.

A batch is a pair ``(x, y)``: ``x`` in model space [-1, 1] with shape ``(B, *spec.shape)``
(``(B, D)`` vectors, ``(B, C, H, W)`` images or ``(B, C, T, H, W)`` videos) and ``y`` an int64
tensor ``(B,)`` of class labels (all zeros when the data has no classes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


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
    ``setup`` runs) and implement :meth:`train_dataloader`.
    """

    spec: DataSpec

    def __init__(self, batch_size: int = 64, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed

    def training_loader(
        self, dataset: Dataset, what: str, sampler: Sampler | None = None
    ) -> DataLoader:
        """The training loader of ``dataset``: full batches only, shuffled with ``seed``
        unless ``sampler`` orders the items.

        ``what`` names the data and its size in the error raised when there are fewer items
        than a batch, e.g. ``"/data/faces has 12 readable images"``.
        """
        if len(dataset) < self.batch_size:
            raise ValueError(
                f"{what}, fewer than batch_size={self.batch_size} (the loader drops "
                "incomplete batches)"
            )
        order = (
            {"sampler": sampler}
            if sampler is not None
            else {"shuffle": True, "generator": torch.Generator().manual_seed(self.seed)}
        )
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            drop_last=True,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            **order,
        )
