"""R1, R2 and R1 + R2 against hand computations, and lazy regularization."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_lab.losses import DiscriminatorInputs, ZeroCenteredGradientPenalty


class LinearD(nn.Module):
    """D(x) = <w, x> + b: ‖∇ₓ D‖² = ‖w‖² for every sample."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, 1)

    def forward(self, x, y=None):
        return self.fc(x.flatten(1)).squeeze(1)


class SquareD(nn.Module):
    """D(x) = a · Σ x²: ∇ₓ D = 2 a x, so ‖∇ₓ D‖² = 4 a² ‖x‖² differs per sample."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.7))

    def forward(self, x, y=None):
        return self.a * x.flatten(1).pow(2).sum(1)


def inputs(d, real, fake, step=0):
    return DiscriminatorInputs(real, fake, None, d(real), d(fake), step)


def test_r1_r2_and_both_by_hand():
    torch.manual_seed(0)
    d = SquareD()
    real, fake = torch.randn(5, 3), torch.randn(5, 3)
    by_hand = {  # γ/2 · mean over samples of 4 a² ‖x‖²
        "real": 0.5 * 2.0 * (4 * 0.49 * real.pow(2).sum(1)).mean().item(),
        "fake": 0.5 * 2.0 * (4 * 0.49 * fake.pow(2).sum(1)).mean().item(),
    }
    by_hand["both"] = by_hand["real"] + by_hand["fake"]
    for samples, value in by_hand.items():
        reg = ZeroCenteredGradientPenalty(gamma=2.0, samples=samples)
        assert reg.penalty(d, inputs(d, real, fake)).item() == pytest.approx(value, rel=1e-5)


def test_penalty_trains_d_only_and_its_gradient_is_right():
    d = SquareD()
    real = torch.ones(2, 3)
    fake = torch.zeros(2, 3, requires_grad=True)
    r1 = ZeroCenteredGradientPenalty(gamma=1.0, samples="real")
    penalty = r1.penalty(d, inputs(d, real, fake))
    penalty.backward()  # d/da (1/2 · 4 a² · 3) = 12 a
    assert d.a.grad.item() == pytest.approx(12 * 0.7, rel=1e-5)
    assert fake.grad is None


def test_lazy_regularization_every_k_steps_scaled_by_k():
    torch.manual_seed(1)
    d = LinearD(4)
    real, fake = torch.randn(3, 4), torch.randn(3, 4)
    w2 = d.fc.weight.pow(2).sum().item()
    reg = ZeroCenteredGradientPenalty(gamma=10.0, samples="both", every=4)
    values = [reg.penalty(d, inputs(d, real, fake, step)) for step in range(9)]
    assert [v is not None for v in values] == [True, False, False, False, True, False, False,
                                               False, True]
    for v in values[::4]:
        assert v.item() == pytest.approx(4 * 10.0 * w2, rel=1e-5)  # 4 · γ/2 · (‖w‖² + ‖w‖²)
    # averaged over a period, the lazy penalty equals the eager one
    eager = ZeroCenteredGradientPenalty(gamma=10.0, samples="both")
    eager = eager.penalty(d, inputs(d, real, fake))
    assert values[0].item() / 4 == pytest.approx(eager.item(), rel=1e-6)


def test_bad_options_name_the_key():
    with pytest.raises(ValueError, match="regularizer.samples"):
        ZeroCenteredGradientPenalty(samples="middle")
    with pytest.raises(ValueError, match="regularizer.every"):
        ZeroCenteredGradientPenalty(every=0)
    with pytest.raises(ValueError, match="regularizer.gamma"):
        ZeroCenteredGradientPenalty(gamma=-1)
    with pytest.raises(ValueError, match="BatchNorm"):
        ZeroCenteredGradientPenalty().prepare(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))


def test_configs_select_r1_r2_and_both():
    from gan_lab.cli import compose

    for name, samples in (("r1", "real"), ("r2", "fake"), ("r1_r2", "both")):
        cfg = compose("train", [f"regularizer={name}", "regularizer.gamma=0.5"])
        assert cfg.regularizer.samples == samples and math.isclose(cfg.regularizer.gamma, 0.5)
