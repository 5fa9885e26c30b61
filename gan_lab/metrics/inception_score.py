"""Inception Score: Salimans et al. 2016, "Improved Techniques for Training GANs",
arXiv:1606.03498.

``IS = exp(E_x KL(p(y|x) ‖ p(y)))`` with ``p(y)`` the mean prediction of the split; the samples
are cut into ``splits`` consecutive parts (10 in the paper's code) and the mean and standard
deviation of the per-split scores are reported.
"""

from __future__ import annotations

import torch
from torch import Tensor


def inception_score(probs: Tensor, splits: int = 10) -> tuple[float, float]:
    """``(mean, std)`` of the Inception Score of class probabilities ``probs (N, K)``.

    Rows must be probability vectors (non-negative, summing to 1).
    """
    if probs.ndim != 2 or len(probs) < splits:
        raise ValueError(
            f"need probabilities (N, K) with N >= splits={splits}, got {tuple(probs.shape)}"
        )
    p = probs.double()
    if (p < 0).any() or not torch.allclose(p.sum(dim=1), torch.ones(len(p), dtype=p.dtype),
                                          atol=1e-4):
        raise ValueError("inception_score expects probabilities: rows >= 0 that sum to 1")
    scores = []
    for part in torch.tensor_split(p, splits):
        marginal = part.mean(dim=0, keepdim=True)
        kl = (torch.xlogy(part, part) - torch.xlogy(part, marginal)).sum(dim=1).mean()
        scores.append(kl.exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False))
