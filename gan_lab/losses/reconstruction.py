"""Reconstruction losses of video prediction (Mathieu, Couprie & LeCun 2016, arXiv:1511.05440):
pure functions of a prediction ``Ŷ`` and its target ``Y`` of the same shape ``(..., H, W)``.

Both are means rather than the paper's sums, so their scale does not depend on the frame size or
the batch (the authors' code averages too: Torch's ``MSECriterion`` and ``AbsCriterion``).
Inputs are cast to float32.
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["lp_loss", "gradient_difference_loss"]


def _check(name: str, pred: Tensor, target: Tensor) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f"{name} needs prediction and target of the same shape, "
            f"got {tuple(pred.shape)} and {tuple(target.shape)}"
        )


def lp_loss(pred: Tensor, target: Tensor, p: float = 2.0) -> Tensor:
    """``mean |Y - Ŷ|^p`` over all elements (eq. 2 of the paper, averaged)."""
    _check("lp_loss", pred, target)
    if p <= 0:
        raise ValueError(f"lp_loss needs p > 0, got {p}")
    return (target.float() - pred.float()).abs().pow(p).mean()


def gradient_difference_loss(pred: Tensor, target: Tensor, alpha: float = 1.0) -> Tensor:
    """Gradient difference loss (eq. 5 of the paper), averaged.

    ``mean_{i,j} | |Y_{i,j} - Y_{i-1,j}| - |Ŷ_{i,j} - Ŷ_{i-1,j}| |^α`` over the vertical
    neighbours plus the same mean over the horizontal ones ``(i, j-1)``; ``i`` and ``j`` index
    the last two dimensions (H, W), every other dimension is averaged over.
    """
    _check("gradient_difference_loss", pred, target)
    if alpha <= 0:
        raise ValueError(f"gradient_difference_loss needs alpha > 0, got {alpha}")
    y, y_hat = target.float(), pred.float()
    loss = y.new_zeros(())
    for dim in (-2, -1):
        n = y.shape[dim] - 1
        grad_y = (y.narrow(dim, 1, n) - y.narrow(dim, 0, n)).abs()
        grad_y_hat = (y_hat.narrow(dim, 1, n) - y_hat.narrow(dim, 0, n)).abs()
        loss = loss + (grad_y - grad_y_hat).abs().pow(alpha).mean()
    return loss
