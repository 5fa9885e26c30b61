"""FID/KID/IS math against independent computations and constructed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from gan_lab.metrics import (
    FrechetDistance,
    InceptionScore,
    KernelDistance,
    frechet_distance,
    inception_score,
    kernel_distance,
    mean_and_covariance,
    reference,
    sqrtm_psd,
)


def _random_spd(d: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _scipy_frechet(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2)
                 - 2 * np.trace(covmean.real))


@pytest.mark.parametrize("d", [2, 16, 128])
def test_frechet_distance_matches_scipy_sqrtm_on_known_gaussians(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = _random_spd(d, rng), _random_spd(d, rng)
    ours = frechet_distance(*(torch.from_numpy(a) for a in (mu1, s1, mu2, s2)))
    assert ours == pytest.approx(_scipy_frechet(mu1, s1, mu2, s2), rel=1e-9, abs=1e-9)


def test_frechet_distance_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal(64), rng.standard_normal(64)
    a, b = rng.uniform(0.1, 3, 64), rng.uniform(0.1, 3, 64)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    ours = frechet_distance(torch.from_numpy(mu1), torch.from_numpy(np.diag(a)),
                            torch.from_numpy(mu2), torch.from_numpy(np.diag(b)))
    assert ours == pytest.approx(expected, rel=1e-12)


def test_sqrtm_psd_squares_back_and_handles_rank_deficiency():
    rng = np.random.default_rng(1)
    s = torch.from_numpy(_random_spd(32, rng))
    root = sqrtm_psd(s)
    torch.testing.assert_close(root @ root, s, rtol=1e-10, atol=1e-10)
    # 10 samples in 64-d: a singular covariance; distance of a set to itself is ~0, not NaN
    x = torch.randn(10, 64, dtype=torch.float64)
    mu, cov = mean_and_covariance(x)
    d = frechet_distance(mu, cov, mu, cov)
    assert math.isfinite(d) and abs(d) < 1e-6 * float(cov.trace())


def test_mean_and_covariance_match_numpy():
    x = torch.randn(500, 7, dtype=torch.float64) * 3 + 1
    mu, cov = mean_and_covariance(x)
    np.testing.assert_allclose(mu.numpy(), x.numpy().mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.cov(x.numpy(), rowvar=False), rtol=1e-10)


class Identity(nn.Module):
    def forward(self, x):
        return x


def test_frechet_metric_equals_statistics_of_its_inputs_and_converges_to_the_truth():
    gen = torch.Generator().manual_seed(0)
    d = 8
    real = torch.randn(20000, d, generator=gen)
    fake = torch.randn(20000, d, generator=gen) * 2 + 0.5  # N(0.5, 4 I)
    metric = FrechetDistance(Identity())
    for chunk in real.split(3000):
        metric.update(chunk, real=True)
    for chunk in fake.split(3000):
        metric.update(chunk)
    value = float(metric.compute())
    mu_r, s_r = np.mean(real.numpy(), 0), np.cov(real.numpy().astype(np.float64), rowvar=False)
    mu_f, s_f = np.mean(fake.numpy(), 0), np.cov(fake.numpy().astype(np.float64), rowvar=False)
    assert value == pytest.approx(_scipy_frechet(mu_r, s_r, mu_f, s_f), rel=1e-6)
    # closed form: 8 * 0.5^2 + 8 * (1 - 2)^2 = 10
    assert value == pytest.approx(10.0, rel=0.03)


def test_reference_features_replace_real_updates():
    real, fake = torch.randn(300, 4), torch.randn(300, 4) + 1
    a = FrechetDistance(Identity())
    a.update(real, real=True)
    a.update(fake)
    b = FrechetDistance(Identity())
    b.set_reference(real)
    b.update(fake)
    assert float(a.compute()) == pytest.approx(float(b.compute()), rel=1e-12)
    b.update(real, real=True)
    with pytest.raises(RuntimeError, match="both"):
        b.compute()


def test_metrics_keep_features_in_float64_so_they_match_their_functions_far_from_zero():
    gen = torch.Generator().manual_seed(0)
    real = 1000 + torch.randn(600, 16, dtype=torch.float64, generator=gen)
    fake = 1000.1 + torch.randn(500, 16, dtype=torch.float64, generator=gen)
    fid, kid = FrechetDistance(Identity()), KernelDistance(Identity(), subsets=5, subset_size=200)
    for metric in (fid, kid):
        for chunk in real.split(128):
            metric.update(chunk, real=True)
        for chunk in fake.split(128):
            metric.update(chunk)
        assert metric.real().dtype == metric.fake().dtype == torch.float64

    def fid_of(a, b):
        return frechet_distance(*mean_and_covariance(a), *mean_and_covariance(b))

    assert float(fid.compute()) == pytest.approx(fid_of(real, fake), rel=1e-9)
    mean, std = kid.compute()
    expected = kernel_distance(real, fake, subsets=5, subset_size=200)
    assert (float(mean), float(std)) == pytest.approx(expected, rel=1e-9)
    # what float32 features (gan_lab before) would have given: off by about 1e-6
    rounded = fid_of(real.float(), fake.float())
    assert abs(rounded / fid_of(real, fake) - 1) > 1e-8


def test_reference_cache_keeps_float64_and_recomputes_float32_entries(tmp_path):
    key = {"data": {"name": "test"}, "n_real": 5}
    features = 1000 + torch.randn(5, 3, dtype=torch.float64)
    reference.save_reference(key, features, str(tmp_path))
    loaded = reference.load_reference(key, str(tmp_path))
    assert loaded.dtype == torch.float64 and torch.equal(loaded, features)
    path = reference.reference_path(key, str(tmp_path))
    blob = torch.load(path, weights_only=True)
    torch.save({**blob, "features": blob["features"].float()}, path)  # an older entry
    assert reference.load_reference(key, str(tmp_path)) is None


def _kid_by_formula(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with k(a, b) = (a·b / d + 1)^3, written out as sums over pairs."""
    m, d = len(x), x.shape[1]

    def k(a, b):
        return (a @ b / d + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_matches_its_formula():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 5)), rng.standard_normal((40, 5)) * 1.5 + 0.3
    mean, std = kernel_distance(torch.from_numpy(x), torch.from_numpy(y), subsets=3,
                                subset_size=40)
    assert mean == pytest.approx(_kid_by_formula(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)  # every subset is the whole set


def test_kid_metric_is_unbiased_near_zero_for_one_distribution_and_positive_otherwise():
    gen = torch.Generator().manual_seed(0)
    same = KernelDistance(Identity(), subsets=50, subset_size=200)
    same.update(torch.randn(2000, 16, generator=gen), real=True)
    same.update(torch.randn(2000, 16, generator=gen))
    mean, std = same.compute()
    assert abs(float(mean)) < 3 * float(std) + 1e-4
    shifted = KernelDistance(Identity(), subsets=50, subset_size=200)
    shifted.update(torch.randn(2000, 16, generator=gen), real=True)
    shifted.update(torch.randn(2000, 16, generator=gen) + 0.5)
    mean_shifted, _ = shifted.compute()
    assert float(mean_shifted) > 10 * abs(float(mean)) and float(mean_shifted) > 0.01


def test_inception_score_of_uniform_predictions_is_one():
    probs = torch.full((100, 10), 0.1)
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 10, 1000])
def test_inception_score_of_balanced_one_hot_predictions_is_the_class_count(k):
    probs = torch.eye(k).repeat(4, 1)  # every split of k samples holds each class once
    mean, std = inception_score(probs, splits=4)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_metric_from_softmax_of_a_classifier():
    class OneHot(nn.Module):
        def forward(self, x):
            return nn.functional.one_hot(x.long(), 5).double()

    metric = InceptionScore(OneHot(), splits=2)
    metric.update(torch.arange(10) % 5)
    mean, _ = metric.compute()
    assert float(mean) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="probabilities"):
        inception_score(torch.randn(20, 3), splits=2)
