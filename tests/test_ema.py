"""EMA arithmetic and its warm-up schedule."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gan_lab.modules.base import GANModule
from gan_lab.modules.ema import ema_update_, make_ema_copy


def test_ema_update_is_a_convex_combination_and_copies_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = make_ema_copy(model)
    assert not any(p.requires_grad for p in ema.parameters())
    old = [p.detach().clone() for p in ema.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
        model[1].running_mean.fill_(7.0)
    ema_update_(ema, model, decay=0.9)
    for e, o, p in zip(ema.parameters(), old, model.parameters(), strict=True):
        torch.testing.assert_close(e, 0.9 * o + 0.1 * p)
    torch.testing.assert_close(ema[1].running_mean, torch.full((2,), 7.0))


def test_decay_zero_copies_the_model():
    model = nn.Linear(4, 4)
    ema = make_ema_copy(nn.Linear(4, 4))
    ema_update_(ema, model, decay=0.0)
    torch.testing.assert_close(ema.weight, model.weight)


@pytest.mark.parametrize(
    ("iteration", "start", "expected"),
    [(0, 0, 0.0), (5, 10, 0.0), (10, 10, 0.0), (11, 10, 2 / 11), (1, 0, 2 / 11),
     (100, 0, 101 / 110), (100_000, 0, 0.999)],
)
def test_decay_warms_up_after_ema_start(iteration, start, expected):
    state = SimpleNamespace(iteration=iteration, ema_decay=0.999, ema_start=start)
    assert GANModule.current_ema_decay(state) == pytest.approx(expected)
