"""Fréchet distance between Gaussians fitted to features: the core of FID and FVD.

FID: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium", arXiv:1706.08500. FVD: Unterthiner et al. 2018, arXiv:1812.01717.

``d² = ‖μ1 − μ2‖² + Tr(Σ1) + Tr(Σ2) − 2 Tr((Σ1 Σ2)^{1/2})``

Everything is computed in float64. ``Tr((Σ1 Σ2)^{1/2})`` is taken from the symmetric positive
semi-definite matrix ``Σ1^{1/2} Σ2 Σ1^{1/2}``, which is similar to ``Σ1 Σ2`` and so has the same
eigenvalues: two symmetric eigen-decompositions (``eigh``) replace the non-symmetric ``sqrtm`` or
``eigvals`` that other implementations use, so no complex parts and no Schur iterations appear,
and tiny negative eigenvalues from round-off are clamped to zero.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _symmetric(a: Tensor) -> Tensor:
    return (a + a.T) / 2


def sqrtm_psd(a: Tensor) -> Tensor:
    """The symmetric square root of a symmetric PSD matrix ``(D, D)``, in float64."""
    w, v = torch.linalg.eigh(_symmetric(a.double()))
    return (v * w.clamp_min(0).sqrt()) @ v.T


def trace_sqrt_product(sigma1: Tensor, sigma2: Tensor) -> Tensor:
    """``Tr((Σ1 Σ2)^{1/2})`` for symmetric PSD ``Σ1, Σ2`` ``(D, D)``, float64 scalar."""
    root = sqrtm_psd(sigma1)
    inner = _symmetric(root @ sigma2.double() @ root)
    return torch.linalg.eigvalsh(inner).clamp_min(0).sqrt().sum()


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """Squared Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Args:
        mu1, mu2: means ``(D,)``.
        sigma1, sigma2: covariances ``(D, D)``.
    """
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(
            f"feature statistics differ in shape: mean {tuple(mu1.shape)} vs "
            f"{tuple(mu2.shape)}, covariance {tuple(sigma1.shape)} vs {tuple(sigma2.shape)}"
        )
    diff = mu1.double() - mu2.double()
    value = (
        diff.dot(diff)
        + sigma1.double().trace()
        + sigma2.double().trace()
        - 2 * trace_sqrt_product(sigma1, sigma2)
    )
    return float(value)


def mean_and_covariance(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``features`` ``(N, D)``, float64."""
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(
            f"need features (N, D) with N >= 2 to estimate a covariance, got "
            f"{tuple(features.shape)}"
        )
    x = features.double()
    mu = x.mean(dim=0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)
