"""Kernel Inception Distance: Bińkowski, Sutherland, Arbel and Gretton 2018, "Demystifying MMD
GANs", arXiv:1801.01401.

KID is the squared maximum mean discrepancy between real and generated features under the
polynomial kernel ``k(x, y) = (xᵀy / d + 1)³``, estimated without bias on ``subsets`` random
subsets of ``subset_size`` real and ``subset_size`` generated features (drawn without
replacement within a subset); the mean and standard deviation over subsets are reported. The
defaults, 100 subsets of 1,000, are those of the paper's code and of torch-fidelity.
"""

from __future__ import annotations

import torch
from torch import Tensor


def polynomial_kernel(
    x: Tensor, y: Tensor, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> Tensor:
    """``(gamma xᵀy + coef0)^degree`` for ``x (N, D)``, ``y (M, D)``; ``gamma = 1 / D``."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * x @ y.T + coef0) ** degree


def mmd2_unbiased(k_xx: Tensor, k_yy: Tensor, k_xy: Tensor) -> Tensor:
    """Unbiased MMD² from kernel matrices ``(m, m)``, ``(n, n)``, ``(m, n)``: the diagonals
    of ``k_xx`` and ``k_yy`` are left out."""
    m, n = len(k_xx), len(k_yy)
    xx = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    yy = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return xx + yy - 2 * k_xy.mean()


def kernel_distance(
    real: Tensor,
    fake: Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> tuple[float, float]:
    """KID between ``real (N, D)`` and ``fake (M, D)`` features: ``(mean, std)`` over subsets.

    ``subset_size`` must not exceed ``min(N, M)``; the subsets are drawn with a
    ``torch.Generator`` seeded with ``seed``, so the value is reproducible.
    """
    if subset_size > min(len(real), len(fake)) or subset_size < 2:
        raise ValueError(
            f"KID subset_size={subset_size} must be in [2, min(n_real, n_fake)] = "
            f"[2, {min(len(real), len(fake))}]"
        )
    gen = torch.Generator().manual_seed(seed)
    x_all, y_all = real.double(), fake.double()
    values = []
    for _ in range(subsets):
        x = x_all[torch.randperm(len(x_all), generator=gen)[:subset_size]]
        y = y_all[torch.randperm(len(y_all), generator=gen)[:subset_size]]
        k = (degree, gamma, coef0)
        values.append(
            mmd2_unbiased(polynomial_kernel(x, x, *k), polynomial_kernel(y, y, *k),
                          polynomial_kernel(x, y, *k))
        )
    v = torch.stack(values)
    return float(v.mean()), float(v.std(unbiased=False)) if len(v) > 1 else 0.0
