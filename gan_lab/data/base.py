"""The contract every gan_lab data module keeps.

A batch is a pair ``(x, y)``: ``x`` in model space [-1, 1] with shape ``(B, *spec.shape)``
(``(B, D)`` vectors, ``(B, C, H, W)`` images or ``(B, C, T, H, W)`` videos) and ``y`` an int64
tensor ``(B,)`` of class labels (all zeros when the data has no classes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import lightning as L
import torch


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
