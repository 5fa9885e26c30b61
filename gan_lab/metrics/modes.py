"""Mode coverage of 2-D Gaussian mixtures, the protocol of VEEGAN (Srivastava et al. 2017,
arXiv:1705.07761) and PacGAN (Lin et al. 2018, arXiv:1712.04086, Table 1).

A sample is *high quality* when it lies within 3 standard deviations of its nearest mode; a
mode is *captured* when at least one high-quality sample is nearest to it. The reverse KL is
KL(p_gen || p_true) between the histogram of high-quality samples over the modes and the true
(uniform) mode distribution, as in PacGAN's evaluation code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


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
    n_good = int(counts.sum())
    if n_good:
        p = counts.double() / n_good
        nz = p > 0
        reverse_kl = float((p[nz] * torch.log(p[nz] * len(centers))).sum())
    else:
        reverse_kl = float("inf")
    return ModeCoverage(
        modes=int((counts > 0).sum()),
        num_modes=len(centers),
        high_quality=n_good / len(samples),
        reverse_kl=reverse_kl,
        counts=tuple(int(c) for c in counts),
    )
