"""Mode coverage: 2-D Gaussian mixtures and Stacked MNIST, the protocols of VEEGAN (Srivastava
et al. 2017, arXiv:1705.07761) and PacGAN (Lin et al. 2018, arXiv:1712.04086, Tables 1–3).

**Toy 2-D** (Table 1): a sample is *high quality* when it lies within 3 standard deviations of
its nearest mode; a mode is *captured* when at least one high-quality sample is nearest to it.
The reverse KL is KL(p_gen || p_true) between the histogram of high-quality samples over the
modes and the true (uniform) mode distribution, as in PacGAN's evaluation code.

**Stacked MNIST** (Che et al. 2017, arXiv:1612.02136; Tables 2–3): a classifier labels each of
the three channels of a generated sample, giving one of 1,000 modes ``100 d0 + 10 d1 + d2``;
over 26,000 samples, *modes* is the number of modes that occur and *KL* is
``KL(p_gen ‖ uniform)`` of the mode histogram, as in PacGAN's ``log_metrics`` (every sample
counts; there is no quality threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torchmetrics import Metric


@dataclass(frozen=True)
class ModeCoverage:
    """Result of :func:`toy_mode_coverage`."""

    modes: int
    num_modes: int
    high_quality: float
    reverse_kl: float
    counts: tuple[int, ...]

    def to_dict(self) -> dict:
        return {
            "modes": self.modes,
            "num_modes": self.num_modes,
            "high_quality": self.high_quality,
            "reverse_kl": self.reverse_kl,
        }


def toy_mode_coverage(
    samples: torch.Tensor, centers: torch.Tensor, std: float, threshold: float = 3.0
) -> ModeCoverage:
    """Mode coverage of ``samples`` ``(N, 2)`` against ``centers`` ``(K, 2)``, in data space.

    Args:
        std: the standard deviation of each mixture component.
        threshold: the high-quality radius in standard deviations (3 in the protocol).
    """
    samples = torch.as_tensor(samples, dtype=torch.float64)
    centers = torch.as_tensor(centers, dtype=torch.float64)
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples must be (N, {centers.shape[1]}), got shape {tuple(samples.shape)}"
        )
    dist = torch.cdist(samples, centers)
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= threshold * std
    counts = torch.bincount(nearest[good], minlength=len(centers))
    return ModeCoverage(
        modes=int((counts > 0).sum()),
        num_modes=len(centers),
        high_quality=int(counts.sum()) / len(samples),
        reverse_kl=kl_to_uniform(counts),
        counts=tuple(int(c) for c in counts),
    )


def kl_to_uniform(counts: Tensor) -> float:
    """``KL(p ‖ uniform)`` of the histogram ``counts (K,)`` (``inf`` when it is empty)."""
    total = counts.sum()
    if total == 0:
        return float("inf")
    p = counts.double() / total
    nz = p > 0
    return float((p[nz] * torch.log(p[nz] * len(counts))).sum())


STACKED_MODES = 1000


def stacked_mnist_mode(digits: Tensor) -> Tensor:
    """Mode index ``100 d0 + 10 d1 + d2`` of per-channel digit labels ``(N, 3)`` → ``(N,)``."""
    if digits.ndim != 2 or digits.shape[1] != 3:
        raise ValueError(f"expected digit labels (N, 3), got {tuple(digits.shape)}")
    return digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]


class ModeHistogram(Metric):
    """Counts of mode indices ``(N,)`` in ``[0, num_modes)``, summed across processes.

    ``compute()`` returns the counts ``(num_modes,)``.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = None

    def __init__(self, num_modes: int) -> None:
        super().__init__()
        self.num_modes = num_modes
        self.add_state("counts", default=torch.zeros(num_modes, dtype=torch.long),
                       dist_reduce_fx="sum")

    def update(self, modes: Tensor) -> None:
        self.counts += torch.bincount(modes.long().flatten(), minlength=self.num_modes)

    def compute(self) -> Tensor:
        return self.counts
