"""Adversarial losses: values on hand-computed cases, gradients, numerical stability."""

from __future__ import annotations

import math

import pytest
import torch

import gan_lab.losses as losses
from gan_lab.losses import (
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
)

ALL_LOSSES = [
    MinimaxLoss(),
    NonSaturatingLoss(),
    LeastSquaresLoss(),
    WassersteinLoss(),
    HingeLoss(),
]


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def test_all_exported():
    names = ["MinimaxLoss", "NonSaturatingLoss", "LeastSquaresLoss", "WassersteinLoss", "HingeLoss"]
    assert all(hasattr(losses, name) and name in losses.__all__ for name in names)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda x: type(x).__name__)
def test_losses_are_float32_scalars(loss):
    real = t(0.3, -1.0, 2.0).to(torch.bfloat16)
    fake = t(-0.5, 0.1, 1.5).to(torch.bfloat16)
    d, g = loss.discriminator(real, fake), loss.generator(fake)
    assert d.shape == () and g.shape == ()
    assert d.dtype == torch.float32 and g.dtype == torch.float32


def test_minimax_discriminator_value():
    # -log sigmoid(r) for reals, -log(1 - sigmoid(f)) for fakes, each averaged.
    real, fake = t(0.0, 2.0), t(-1.0, 0.0)
    expected = 0.5 * (-math.log(0.5) - math.log(1 / (1 + math.exp(-2.0)))) + 0.5 * (
        -math.log(1 - 1 / (1 + math.exp(1.0))) - math.log(0.5)
    )
    for loss in (MinimaxLoss(), NonSaturatingLoss()):
        assert loss.discriminator(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_minimax_and_non_saturating_generator_values():
    fake = t(-1.0, 0.0, 3.0)
    d = [1 / (1 + math.exp(-v)) for v in (-1.0, 0.0, 3.0)]
    # saturating: G minimises E[log(1 - D)]; non-saturating: G minimises -E[log D]
    assert MinimaxLoss().generator(fake).item() == pytest.approx(
        sum(math.log(1 - p) for p in d) / 3, rel=1e-6
    )
    assert NonSaturatingLoss().generator(fake).item() == pytest.approx(
        -sum(math.log(p) for p in d) / 3, rel=1e-6
    )


def test_sigmoid_losses_stable_at_extreme_logits():
    real, fake = t(200.0, 1000.0), t(-200.0, -1000.0)
    assert MinimaxLoss().discriminator(real, fake).item() == pytest.approx(0.0, abs=1e-6)
    # D is sure the fakes are fake: non-saturating G loss = -log sigmoid(f) ~ -f.
    assert NonSaturatingLoss().generator(fake).item() == pytest.approx(600.0, rel=1e-6)
    assert MinimaxLoss().generator(fake).item() == pytest.approx(0.0, abs=1e-6)
    wrong = MinimaxLoss().discriminator(-real, -fake)  # D is sure and wrong
    assert torch.isfinite(wrong) and wrong.item() == pytest.approx(1200.0, rel=1e-6)


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    # D(G(z)) = sigmoid(-10) ~ 4.5e-5: D confidently rejects the fake (early training).
    grads = {}
    for loss in (MinimaxLoss(), NonSaturatingLoss()):
        fake = t(-10.0).requires_grad_(True)
        loss.generator(fake).backward()
        grads[type(loss).__name__] = fake.grad.item()
    sig = 1 / (1 + math.exp(10.0))
    assert grads["MinimaxLoss"] == pytest.approx(-sig, rel=1e-4)  # d/dt -softplus(t)
    assert abs(grads["MinimaxLoss"]) < 1e-4
    assert grads["NonSaturatingLoss"] == pytest.approx(-(1 - sig), rel=1e-4)
    assert abs(grads["NonSaturatingLoss"]) > 0.99
    # both push the fake logit up (gradient descent on G)
    assert grads["MinimaxLoss"] < 0 and grads["NonSaturatingLoss"] < 0


def test_least_squares_default_targets():
    loss = LeastSquaresLoss()
    assert (loss.a, loss.b, loss.c) == (0.0, 1.0, 1.0)
    # 1/2 mean((r - 1)^2) + 1/2 mean((f - 0)^2)
    real, fake = t(1.0, 3.0), t(0.0, 2.0)
    assert loss.discriminator(real, fake).item() == pytest.approx(0.5 * 2.0 + 0.5 * 2.0)
    assert loss.discriminator(t(1.0), t(0.0)).item() == 0.0
    assert loss.generator(t(0.0, 1.0)).item() == pytest.approx(0.5 * 0.5)


def test_least_squares_custom_targets_and_gradient():
    loss = LeastSquaresLoss(a=-1.0, b=1.0, c=0.0)
    real, fake = t(1.0, 3.0), t(-1.0, 1.0)
    # 1/2 mean([0, 4]) + 1/2 mean([0, 4]) = 2
    assert loss.discriminator(real, fake).item() == pytest.approx(2.0)
    assert loss.generator(fake).item() == pytest.approx(0.5)
    fake = t(2.0, -4.0).requires_grad_(True)
    loss.generator(fake).backward()
    # d/df 1/2 mean((f - c)^2) = (f - c) / B
    torch.testing.assert_close(fake.grad, t(1.0, -2.0))


def test_wasserstein_values_and_gradients():
    loss = WassersteinLoss()
    real = t(1.0, 3.0).requires_grad_(True)
    fake = t(0.0, -2.0).requires_grad_(True)
    d = loss.discriminator(real, fake)
    assert d.item() == pytest.approx(-1.0 - 2.0)
    d.backward()
    torch.testing.assert_close(real.grad, t(-0.5, -0.5))
    torch.testing.assert_close(fake.grad, t(0.5, 0.5))
    assert loss.generator(t(0.0, -2.0)).item() == pytest.approx(1.0)


def test_hinge_values():
    loss = HingeLoss()
    # relu(1 - [2, 0.5]) -> [0, 0.5]; relu(1 + [-3, 0]) -> [0, 1]
    assert loss.discriminator(t(2.0, 0.5), t(-3.0, 0.0)).item() == pytest.approx(0.25 + 0.5)
    assert loss.generator(t(-3.0, 1.0)).item() == pytest.approx(1.0)


def test_hinge_zero_loss_and_gradient_beyond_margin():
    real = t(1.5, 2.0, 10.0).requires_grad_(True)
    fake = t(-1.2, -5.0, -1.0).requires_grad_(True)
    d = HingeLoss().discriminator(real, fake)
    assert d.item() == 0.0
    d.backward()
    assert real.grad.abs().sum() == 0 and fake.grad.abs().sum() == 0
    # inside the margin the gradient is -1/B (reals) and +1/B (fakes)
    real = t(0.5).requires_grad_(True)
    fake = t(0.5).requires_grad_(True)
    HingeLoss().discriminator(real, fake).backward()
    assert real.grad.item() == -1.0 and fake.grad.item() == 1.0


def test_repr_names_parameters():
    assert repr(LeastSquaresLoss(a=-1.0)) == "LeastSquaresLoss(a=-1.0, b=1.0, c=1.0)"
