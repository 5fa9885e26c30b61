"""Precision, recall, density and coverage: k-nearest-neighbour estimates of the manifolds of
real and generated features.

Precision and recall: Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, "Improved Precision and
Recall Metric for Assessing Generative Models", arXiv:1904.06991 (k = 3). Density and coverage:
Naeem, Oh, Uh, Choi & Yoo 2020, "Reliable Fidelity and Diversity Metrics for Generative Models",
arXiv:2002.09797 (k = 5).

Every sample ``x`` of a set ``X`` owns the ball ``B(x, r_k(x))`` whose radius is the distance to
its k-th nearest neighbour in ``X`` other than itself: the (k+1)-th smallest distance counting
its own distance 0, as in the authors' ``prdc`` package (a duplicate of ``x`` is a neighbour at
distance 0). With real features ``X`` (N of them) and generated ones ``Y`` (M):

* precision ``= (1/M) Σ_j 1[∃ i: Y_j ∈ B(X_i)]``: generated samples on the real manifold;
* recall ``= (1/N) Σ_i 1[∃ j: X_i ∈ B(Y_j)]``: real samples on the generated manifold;
* density ``= (1/(kM)) Σ_j Σ_i 1[Y_j ∈ B(X_i)]``: real balls around each generated sample,
  1 in expectation when both sets come from one distribution, above 1 where samples crowd
  the dense parts of the real manifold;
* coverage ``= (1/N) Σ_i 1[∃ j: Y_j ∈ B(X_i)]``: real balls that hold a generated sample.

Balls are open (``d < r``), as in ``prdc``, so a set of distinct samples against itself has
precision, recall and coverage 1 and, when its distances are distinct, density exactly 1 (each
ball holds its centre and its k − 1 nearest neighbours); Kynkäänniemi et al.'s code counts
``d ≤ r``. The two differ only on exact ties, i.e. duplicated samples.

Distances are Euclidean, in float64, and computed from coordinate differences (``torch.cdist``
without the ``‖x‖² + ‖y‖² − 2 xᵀy`` shortcut), so the distance of a pair depends on the pair
alone: a sample is at distance exactly 0 from itself and from its copies, ties are exact, and a
large common offset of the features cancels no digits. This is slower than the shortcut's
matrix product on a CPU (9,003 × 10,000 128-d features: 38 s on one thread for all four
metrics). Distances are computed whole rows at a time, at most ``block`` of them, so memory
stays O(block + N + M): a 10k × 10k matrix never exists.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

# Distances held at once: 2^24 float64 values, 128 MiB.
BLOCK = 1 << 24


def _checked(x: Tensor, what: str, min_rows: int) -> Tensor:
    if x.ndim != 2 or len(x) < min_rows:
        raise ValueError(f"{what} must be (N, D) with N >= {min_rows}, got {tuple(x.shape)}")
    return x.double()


def _pair(real: Tensor, fake: Tensor, real_min: int, fake_min: int) -> tuple[Tensor, Tensor]:
    real = _checked(real, "real features", real_min)
    fake = _checked(fake, "generated features", fake_min)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and generated features differ in size: {real.shape[1]} vs {fake.shape[1]}"
        )
    return real, fake.to(real.device)


def _distance_rows(x: Tensor, y: Tensor, block: int = BLOCK) -> Iterator[tuple[int, Tensor]]:
    """``(start, d)`` for consecutive rows of ``x (N, D)``: ``d (b, M)`` holds the Euclidean
    distances from ``x[start : start + b]`` to every row of ``y (M, D)``, with ``b·M ≤ block``
    (at least one row)."""
    step = max(1, block // len(y))
    for start in range(0, len(x), step):
        yield start, torch.cdist(x[start : start + step], y,
                                 compute_mode="donot_use_mm_for_euclid_dist")


def knn_radii(x: Tensor, k: int, block: int = BLOCK) -> Tensor:
    """Distance ``(N,)`` from each row of ``x (N, D)`` to its k-th nearest other row, float64."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    x = _checked(x, "features", k + 1)
    return torch.cat([d.kthvalue(k + 1, dim=1).values for _, d in _distance_rows(x, x, block)])


def precision_recall(
    real: Tensor, fake: Tensor, k: int = 3, block: int = BLOCK
) -> tuple[float, float]:
    """Improved precision and recall of ``fake (M, D)`` against ``real (N, D)`` features
    with ``k``-nearest-neighbour balls (both sets need more than ``k`` samples)."""
    real, fake = _pair(real, fake, k + 1, k + 1)
    real_radii, fake_radii = knn_radii(real, k, block), knn_radii(fake, k, block)
    on_real = torch.zeros(len(fake), dtype=torch.bool, device=real.device)
    on_fake = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    for start, d in _distance_rows(fake, real, block):  # generated rows, real columns
        on_real[start : start + len(d)] = (d < real_radii).any(dim=1)
        on_fake |= (d < fake_radii[start : start + len(d), None]).any(dim=0)
    return float(on_real.double().mean()), float(on_fake.double().mean())


def density_coverage(
    real: Tensor, fake: Tensor, k: int = 5, block: int = BLOCK
) -> tuple[float, float]:
    """Density and coverage of ``fake (M, D)`` against ``real (N, D)`` features with
    ``k``-nearest-neighbour balls around the real samples (``N > k``)."""
    real, fake = _pair(real, fake, k + 1, 1)
    radii = knn_radii(real, k, block)
    inside = 0
    covered = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    for _, d in _distance_rows(fake, real, block):
        within = d < radii  # (b, N): generated sample j lies in the ball of real sample i
        inside += int(within.sum())
        covered |= within.any(dim=0)
    return inside / (k * len(fake)), float(covered.double().mean())
