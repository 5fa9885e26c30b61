"""Toy mode coverage on constructed samples with known answers."""

import math

import pytest
import torch

from gan_lab.data import Grid25DataModule, Ring8DataModule
from gan_lab.metrics import toy_mode_coverage


def test_samples_of_the_true_distribution_capture_every_mode():
    dm = Grid25DataModule()
    x, _ = dm.sample(2500, generator=torch.Generator().manual_seed(0))
    result = toy_mode_coverage(dm.spec.to_data_space(x), dm.centers, dm.std)
    assert result.modes == 25
    assert result.high_quality > 0.98  # 3 sigma in 2-D holds 98.9% of the mass
    assert result.reverse_kl < 0.02


def test_a_single_mode_is_one_mode_with_reverse_kl_log_k():
    dm = Ring8DataModule()
    samples = dm.centers[3].expand(100, 2).clone()
    result = toy_mode_coverage(samples, dm.centers, dm.std)
    assert (result.modes, result.high_quality) == (1, 1.0)
    assert result.reverse_kl == pytest.approx(math.log(8))


def test_off_manifold_points_are_not_high_quality():
    dm = Ring8DataModule()
    inside = dm.centers + torch.tensor([2.9 * dm.std, 0.0])
    outside = dm.centers + torch.tensor([3.1 * dm.std, 0.0])
    origin = torch.zeros(5, 2)
    result = toy_mode_coverage(torch.cat([inside, outside, origin]), dm.centers, dm.std)
    assert result.modes == 8
    assert result.high_quality == pytest.approx(8 / 21)
    assert result.counts == (1,) * 8
    assert result.reverse_kl == pytest.approx(0.0, abs=1e-12)
