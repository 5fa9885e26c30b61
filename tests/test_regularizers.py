"""Regularizers: GP and R1/R2 against hand/autograd computations, float32 under autocast,
clipping, spectral norm, and the BatchNorm guard."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrize import is_parametrized

from gan_lab.losses import (
    DiscriminatorInputs,
    GradientPenalty,
    NoRegularizer,
    Regularizer,
    SpectralNorm,
    WeightClipping,
    ZeroCenteredGradientPenalty,
    clip_weights_,
    gradient_penalty,
    zero_centered_gradient_penalty,
)
from gan_lab.nets.layers import apply_spectral_norm

SHAPES = {"vector": (2,), "image": (3, 4, 4), "video": (2, 3, 4, 4)}


def inputs(d, real, fake, y=None, step=0) -> DiscriminatorInputs:
    """What a D update would hand the regularizer for ``real`` and ``fake``."""
    call = (lambda x: d(x)) if y is None else (lambda x: d(x, y))
    return DiscriminatorInputs(real, fake, y, call(real), call(fake), step)


class LinearD(nn.Module):
    """D(x) = <w, x> + b: its input gradient is w everywhere."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.fc = nn.Linear(math.prod(shape), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1)).squeeze(1)


class TinyD(nn.Module):
    """A small nonlinear, optionally conditional D that records what it saw."""

    def __init__(self, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(math.prod(shape), 8)
        self.fc2 = nn.Linear(8, 1)
        self.embed = nn.Embedding(num_classes, 8) if num_classes else None
        self.seen: list[tuple[torch.dtype, torch.dtype]] = []

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = torch.tanh(self.fc1(x.flatten(1)))
        self.seen.append((x.dtype, h.dtype))
        if self.embed is not None:
            h = h * self.embed(y)
        return self.fc2(h).squeeze(1)


def manual_gp(d: nn.Module, real, fake, eps, center=1.0, y=None) -> torch.Tensor:
    """Per-sample loop: x̂_i = eps_i x_i + (1 - eps_i) x̃_i; (‖∇D(x̂_i)‖ - center)²."""
    terms = []
    for i in range(real.shape[0]):
        xi = (eps[i] * real[i] + (1 - eps[i]) * fake[i]).unsqueeze(0).requires_grad_(True)
        out = d(xi) if y is None else d(xi, y[i : i + 1])
        (g,) = torch.autograd.grad(out.sum(), xi)
        terms.append((g.flatten().norm() - center) ** 2)
    return torch.stack(terms).mean()


@pytest.mark.parametrize("kind", SHAPES)
def test_gradient_penalty_linear_critic_is_closed_form(kind):
    torch.manual_seed(0)
    shape = SHAPES[kind]
    d = LinearD(shape)
    real, fake = torch.randn(5, *shape), torch.randn(5, *shape)
    w_norm = d.fc.weight.norm().item()
    gp = gradient_penalty(d, real, fake)
    assert gp.item() == pytest.approx((w_norm - 1.0) ** 2, rel=1e-5)
    gp0 = gradient_penalty(d, real, fake, center=0.0)
    assert gp0.item() == pytest.approx(w_norm**2, rel=1e-5)
    # create_graph: the penalty trains D; d/dw (‖w‖ - 1)² = 2 (‖w‖ - 1) w / ‖w‖
    gp.backward()
    expected = 2 * (w_norm - 1.0) * d.fc.weight / w_norm
    torch.testing.assert_close(d.fc.weight.grad, expected.detach())


@pytest.mark.parametrize("kind", SHAPES)
def test_gradient_penalty_matches_manual_autograd(kind):
    torch.manual_seed(1)
    shape = SHAPES[kind]
    d = TinyD(shape)
    real, fake = torch.randn(4, *shape), torch.randn(4, *shape)
    eps = torch.tensor([0.0, 0.3, 0.7, 1.0])
    gp = gradient_penalty(d, real, fake, eps=eps)
    torch.testing.assert_close(gp, manual_gp(d, real, fake, eps))
    # without eps: one U[0, 1] draw per sample from the global RNG
    torch.manual_seed(123)
    gp_random = gradient_penalty(d, real, fake)
    torch.manual_seed(123)
    torch.testing.assert_close(gp_random, manual_gp(d, real, fake, torch.rand(4)))


def test_gradient_penalty_interpolates_per_sample():
    # eps = 1 gives the reals, eps = 0 the fakes: the D input must be exactly those
    seen = []

    def d(x):
        seen.append(x.detach().clone())
        return (x.flatten(1) ** 2).sum(1)

    real, fake = torch.ones(2, 1, 2, 2), -torch.ones(2, 1, 2, 2)
    gradient_penalty(d, real, fake, eps=torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(seen[0][0], real[0])
    torch.testing.assert_close(seen[0][1], fake[1])


def test_gradient_penalty_passes_labels_and_does_not_reach_generator():
    torch.manual_seed(2)
    d = TinyD((3,), num_classes=4)
    real = torch.randn(4, 3)
    fake = torch.randn(4, 3, requires_grad=True)  # as if straight out of G
    y = torch.tensor([0, 1, 2, 3])
    eps = torch.rand(4)
    gp = gradient_penalty(d, real, fake, y=y, eps=eps)
    torch.testing.assert_close(gp, manual_gp(d, real, fake.detach(), eps, y=y))
    gp.backward()
    assert fake.grad is None
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(d, real, fake[:2], y=y)


@pytest.mark.parametrize("kind", SHAPES)
def test_r1_penalty_closed_form_and_manual(kind):
    torch.manual_seed(3)
    shape = SHAPES[kind]
    lin = LinearD(shape)
    real = torch.randn(3, *shape)
    assert zero_centered_gradient_penalty(lin, real).item() == pytest.approx(
        lin.fc.weight.norm().item() ** 2, rel=1e-5)
    d = TinyD(shape)
    # zero-centred: (‖∇‖ - 0)², on the reals (eps = 1)
    expected = manual_gp(d, real, torch.zeros_like(real), torch.ones(3), center=0.0)
    torch.testing.assert_close(zero_centered_gradient_penalty(d, real), expected)
    r1 = ZeroCenteredGradientPenalty(gamma=4.0, samples="real")
    assert r1.penalty(d, inputs(d, real, real)).item() == pytest.approx(
        2.0 * expected.item(), rel=1e-5
    )


def test_gradient_penalty_class_weight():
    torch.manual_seed(4)
    d = LinearD((2,))
    real, fake = torch.randn(3, 2), torch.randn(3, 2)
    w = d.fc.weight.norm().item()
    reg = GradientPenalty(weight=10.0)
    assert reg.penalty(d, inputs(d, real, fake)).item() == pytest.approx(10 * (w - 1) ** 2,
                                                                         rel=1e-5)
    reg = GradientPenalty(weight=2.0, center=0.0)
    assert reg.penalty(d, inputs(d, real, fake)).item() == pytest.approx(2 * w**2, rel=1e-5)


def test_penalties_stay_float32_under_bf16_autocast():
    torch.manual_seed(5)
    d = TinyD((3, 4, 4))
    real = torch.randn(4, 3, 4, 4).to(torch.bfloat16)
    fake = torch.randn(4, 3, 4, 4).to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        d(real)
        assert d.seen[-1][1] == torch.bfloat16  # autocast is really on around the penalties
        gp = gradient_penalty(d, real, fake)
        assert d.seen[-1] == (torch.float32, torch.float32)
        r1 = zero_centered_gradient_penalty(d, real)
        assert d.seen[-1] == (torch.float32, torch.float32)
    assert gp.dtype == torch.float32 and r1.dtype == torch.float32
    (gp + r1).backward()
    assert d.fc1.weight.grad.dtype == torch.float32
    expected = manual_gp(d, real.float(), real.float(), torch.ones(4), center=0.0)
    torch.testing.assert_close(r1.detach(), expected, rtol=1e-5, atol=1e-6)


def test_clip_weights_bounds_every_parameter():
    torch.manual_seed(6)
    d = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(1))
    d(torch.randn(2, 3, 5, 5))
    with torch.no_grad():
        for p in d.parameters():
            p.mul_(10)
    before = [p.detach().clone() for p in d.parameters()]
    clip_weights_(d, 0.01)
    for p, p0 in zip(d.parameters(), before, strict=True):
        assert p.abs().max() <= 0.01
        torch.testing.assert_close(p, p0.clamp(-0.01, 0.01))
    assert any((p.abs() == 0.01).any() for p in d.parameters())
    with pytest.raises(ValueError, match="clip > 0"):
        clip_weights_(d, 0.0)


def test_weight_clipping_hooks():
    d = nn.Linear(4, 4)
    reg = WeightClipping(clip=0.05)
    assert reg.prepare(d) is d and d.weight.abs().max() <= 0.05
    with torch.no_grad():
        d.weight.fill_(1.0)
    reg.after_step(d, step=1)
    assert torch.all(d.weight == 0.05)
    assert reg.penalty(d, inputs(d, torch.zeros(1, 4), torch.zeros(1, 4))) is None


def _top_singular_value(module: nn.Module) -> float:
    w = module.weight.detach()
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        w = w.movedim(1, 0)  # spectral_norm normalises along dim 1 for transposed convs
    return torch.linalg.matrix_norm(w.flatten(1), ord=2).item()


def test_spectral_norm_wraps_weights_and_normalises_them():
    torch.manual_seed(7)
    d = nn.ModuleDict(
        {
            "c1": nn.Conv1d(3, 8, 3),
            "c2": nn.Conv2d(3, 8, 3),
            "c3": nn.Conv3d(3, 8, 3),
            "t2": nn.ConvTranspose2d(8, 4, 4),
            "fc": nn.Linear(16, 6),
            "emb": nn.Embedding(5, 6),
            "bn": nn.BatchNorm2d(8),
            "ln": nn.LayerNorm(8),
        }
    )
    with torch.no_grad():
        for name in ("c1", "c2", "c3", "t2", "fc", "emb"):
            d[name].weight.mul_(5.0)  # start far from sigma = 1
    assert SpectralNorm().prepare(d) is d
    apply_spectral_norm(d)  # idempotent: no double wrapping
    for name in ("c1", "c2", "c3", "t2", "fc", "emb"):
        assert is_parametrized(d[name], "weight")
        assert len(d[name].parametrizations.weight) == 1
    assert not is_parametrized(d["bn"]) and not is_parametrized(d["ln"])
    d.train()
    for _ in range(30):  # each access in training mode runs one power iteration
        for name in ("c1", "c2", "c3", "t2", "fc", "emb"):
            _ = d[name].weight
    d.eval()
    for name in ("c1", "c2", "c3", "t2", "fc", "emb"):
        assert _top_singular_value(d[name]) == pytest.approx(1.0, abs=1e-2), name


def test_penalties_reject_batchnorm():
    bn_d = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten())
    ln_d = nn.Sequential(nn.Conv2d(1, 4, 3), nn.GroupNorm(1, 4), nn.Flatten())
    for reg in (GradientPenalty(), ZeroCenteredGradientPenalty(samples="both")):
        with pytest.raises(ValueError, match=r"norm to none or layer \(d_norm=none") as err:
            reg.prepare(bn_d)
        assert "BatchNorm" in str(err.value) and "'1'" in str(err.value)
        assert reg.prepare(ln_d) is ln_d
    # weight clipping and spectral norm do not need per-sample gradients
    assert WeightClipping().prepare(bn_d) is bn_d
    assert SpectralNorm().prepare(bn_d) is bn_d


def test_base_regularizer_is_a_no_op():
    d = nn.Linear(2, 1)
    w = d.weight.detach().clone()
    for reg in (Regularizer(), NoRegularizer()):
        assert reg.prepare(d) is d
        assert reg.penalty(d, inputs(d, torch.zeros(1, 2), torch.zeros(1, 2))) is None
        assert reg.after_step(d, step=3) is None
    torch.testing.assert_close(d.weight, w)
