"""Losses and regularizers of the video models: L_p and gradient difference loss against hand
computations (Mathieu et al. 2016), singular value clipping (Saito et al. 2017)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lab.losses import (
    SingularValueClipping,
    clip_singular_values_,
    gradient_difference_loss,
    lp_loss,
)

# a 2x3 frame and a prediction, worked by hand below
TARGET = torch.tensor([[0.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
PRED = torch.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 4.0]])


def test_lp_loss_by_hand():
    # |Y - Ŷ| = [[1, 0, 2], [2, 0, 2]]
    assert lp_loss(PRED, TARGET, p=2).item() == pytest.approx((1 + 0 + 4 + 4 + 0 + 4) / 6)
    assert lp_loss(PRED, TARGET, p=1).item() == pytest.approx(7 / 6)
    assert lp_loss(TARGET, TARGET).item() == 0


def test_gradient_difference_loss_by_hand():
    # vertical:   |ΔY| = [2, 1, 1], |ΔŶ| = [1, 1, 3]            -> |.| = [1, 0, 2]
    # horizontal: |ΔY| = [1, 2 | 0, 0], |ΔŶ| = [0, 0 | 2, 2]    -> |.| = [1, 2, 2, 2]
    assert gradient_difference_loss(PRED, TARGET, alpha=1).item() == pytest.approx(3 / 3 + 7 / 4)
    assert gradient_difference_loss(PRED, TARGET, alpha=2).item() == pytest.approx(5 / 3 + 13 / 4)


def test_gradient_difference_loss_acts_on_the_last_two_dims_only():
    y = torch.randn(2, 3, 4, 8, 8)
    # a constant shift keeps every gradient: no loss; flipping the sign keeps |gradients| too
    assert gradient_difference_loss(y + 0.7, y).item() == pytest.approx(0, abs=1e-6)
    assert gradient_difference_loss(-y, y).item() == pytest.approx(0, abs=1e-6)
    # frames are compared with their own targets: the mean over the other dims
    per_frame = [gradient_difference_loss(y[i, c, t] * 2, y[i, c, t]) for i in range(2)
                 for c in range(3) for t in range(4)]
    expected = torch.stack(per_frame).mean()
    torch.testing.assert_close(gradient_difference_loss(y * 2, y), expected)


def test_losses_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        gradient_difference_loss(torch.zeros(2, 4, 4), torch.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="same shape"):
        lp_loss(torch.zeros(3), torch.zeros(4))


def singular_values(w: torch.Tensor) -> torch.Tensor:
    return torch.linalg.svdvals(w.reshape(w.shape[0], -1).double())


def test_svc_clips_large_singular_values_and_keeps_the_rest():
    torch.manual_seed(0)
    u, _ = torch.linalg.qr(torch.randn(4, 4))
    v, _ = torch.linalg.qr(torch.randn(3, 3))
    sigma = torch.tensor([3.0, 0.9, 0.5])
    layer = nn.Linear(3, 4)
    with torch.no_grad():
        layer.weight.copy_(u[:, :3] @ torch.diag(sigma) @ v.T)
    clip_singular_values_(layer)
    torch.testing.assert_close(
        singular_values(layer.weight).float(), torch.tensor([1.0, 0.9, 0.5]), atol=1e-5, rtol=0
    )
    # the singular vectors are kept: W = U diag(min(sigma, 1)) V^T
    expected = u[:, :3] @ torch.diag(sigma.clamp(max=1)) @ v.T
    torch.testing.assert_close(layer.weight.data, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 8, 3), nn.Conv3d(2, 5, 4), nn.Conv1d(4, 6, 3)])
def test_svc_bounds_every_reshaped_conv_weight(layer):
    with torch.no_grad():
        layer.weight.mul_(50)
    assert singular_values(layer.weight).max() > 1
    clip_singular_values_(layer)
    assert singular_values(layer.weight).max() <= 1 + 1e-5


def test_svc_clamps_batchnorm_scales_to_the_running_std():
    bn = nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([4.0, 1.0, 0.25, 1.0]))
        bn.weight.copy_(torch.tensor([5.0, 0.001, 0.3, -2.0]))
    clip_singular_values_(bn)
    # sigma = [2, 1, 0.5, 1]: gamma in [0.01 sigma, sigma]
    torch.testing.assert_close(bn.weight.data, torch.tensor([2.0, 0.01, 0.3, 0.01]))


def test_singular_value_clipping_every_n_steps():
    d = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2))
    reg = SingularValueClipping(every=5)
    reg.prepare(d)
    assert singular_values(d[0].weight).max() <= 1 + 1e-5
    with torch.no_grad():
        d[0].weight.mul_(100)
    reg.after_step(d, 4)
    assert singular_values(d[0].weight).max() > 1  # not a 5th step
    reg.after_step(d, 10)
    assert singular_values(d[0].weight).max() <= 1 + 1e-5
    assert singular_values(d[1].weight).max() <= 1 + 1e-5
    with pytest.raises(ValueError, match="every"):
        SingularValueClipping(every=0)
