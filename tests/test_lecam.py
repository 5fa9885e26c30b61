"""LeCam regularization: the one-sided penalty by hand, its anchors, and their checkpointing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lab.losses import DiscriminatorInputs, LeCam, lecam_penalty


def step(reg, d, real_logits, fake_logits, n=0):
    x = torch.zeros(len(real_logits), 1)
    return reg.penalty(d, DiscriminatorInputs(x, x, None, real_logits, fake_logits, n))


def test_penalty_by_hand():
    real, fake = torch.tensor([1.0, -2.0, 3.0]), torch.tensor([0.5, -1.0, 2.0])
    a_r, a_f = torch.tensor(0.4), torch.tensor(0.1)
    by_hand = ((max(1 - 0.1, 0) ** 2 + 0 + (3 - 0.1) ** 2) / 3
               + (0 + (0.4 + 1.0) ** 2 + 0) / 3)
    assert lecam_penalty(real, fake, a_r, a_f).item() == pytest.approx(by_hand, rel=1e-6)


def test_anchors_copy_then_average_and_weight_scales():
    d = LeCam(weight=0.5, decay=0.9, start=2).prepare(nn.Linear(1, 1))
    reg = LeCam(weight=0.5, decay=0.9, start=2)
    r1, f1 = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, -3.0])
    value = step(reg, d, r1, f1)
    assert d.lecam_anchor_real.item() == 3.0 and d.lecam_anchor_fake.item() == -2.0
    assert value.item() == pytest.approx(
        0.5 * lecam_penalty(r1, f1, torch.tensor(3.0), torch.tensor(-2.0)).item())
    step(reg, d, torch.tensor([1.0]), torch.tensor([1.0]))  # still before `start`: a copy
    assert d.lecam_anchor_real.item() == 1.0
    step(reg, d, torch.tensor([11.0]), torch.tensor([-9.0]))  # now averaged at 0.9
    assert d.lecam_anchor_real.item() == pytest.approx(0.9 * 1 + 0.1 * 11)
    assert d.lecam_anchor_fake.item() == pytest.approx(0.9 * 1 + 0.1 * -9, abs=1e-6)
    assert d.lecam_updates.item() == 3


def test_anchors_are_per_discriminator_buffers_in_the_state_dict():
    reg = LeCam()
    d1, d2 = reg.prepare(nn.Linear(1, 1)), reg.prepare(nn.Linear(1, 1))
    step(reg, d1, torch.tensor([5.0]), torch.tensor([1.0]))
    assert d1.lecam_anchor_real.item() == 5.0 and d2.lecam_anchor_real.item() == 0.0
    state = d1.state_dict()
    assert {"lecam_anchor_real", "lecam_anchor_fake", "lecam_updates"} <= set(state)
    d2.load_state_dict(state)
    assert d2.lecam_anchor_real.item() == 5.0


def test_gradient_reaches_d_through_the_logits_only():
    reg = LeCam(weight=1.0, start=0)
    d = reg.prepare(nn.Linear(1, 1))
    real = torch.tensor([2.0], requires_grad=True)
    fake = torch.tensor([-2.0], requires_grad=True)
    step(reg, d, real, fake).backward()
    # anchors after one averaged update from 0: a_R = 0.1 · 2, a_F = 0.1 · -2
    assert real.grad.item() == pytest.approx(2 * (2 + 0.2))
    assert fake.grad.item() == pytest.approx(-2 * (0.2 + 2))


def test_bad_options():
    for kwargs in ({"weight": -1}, {"decay": 1.0}, {"start": -1}):
        with pytest.raises(ValueError, match="regularizer"):
            LeCam(**kwargs)
