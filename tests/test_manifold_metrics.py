"""Precision/recall and density/coverage: against a brute-force computation of the papers'
definitions, hand-checked cases, the reference ``prdc`` package, and through the evaluators."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from gan_lab.data.base import DataSpec, GANDataModule
from gan_lab.metrics import (
    FID,
    FVD,
    PRDC,
    EvalContext,
    PrecisionRecallDensityCoverage,
    VideoPRDC,
    density_coverage,
    knn_radii,
    precision_recall,
)
from gan_lab.metrics.features.base import FeatureNetwork
from tests.helpers import FixedSamples, RandomClipsDataModule, fvd_real_clips

CARD_FIELDS = {"metric", "feature_network", "weights_sha256", "n_real", "n_fake", "resize",
               "ema", "iteration", "seed", "k"}


def _brute_force(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, ...]:
    """Precision, recall, density, coverage from full distance matrices and loops: the radius
    of a sample is the k-th smallest distance to the *other* samples of its set."""
    n, m = len(real), len(fake)

    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    d_rr, d_ff, d_rf = dist(real, real), dist(fake, fake), dist(real, fake)
    r_real = [sorted(d_rr[i, j] for j in range(n) if j != i)[k - 1] for i in range(n)]
    r_fake = [sorted(d_ff[i, j] for j in range(m) if j != i)[k - 1] for i in range(m)]
    precision = np.mean([any(d_rf[i, j] < r_real[i] for i in range(n)) for j in range(m)])
    recall = np.mean([any(d_rf[i, j] < r_fake[j] for j in range(m)) for i in range(n)])
    inside = sum(d_rf[i, j] < r_real[i] for i in range(n) for j in range(m))
    coverage = np.mean([any(d_rf[i, j] < r_real[i] for j in range(m)) for i in range(n)])
    return float(precision), float(recall), inside / (k * m), float(coverage)


def _prdc(real: Tensor, fake: Tensor, k: int, **kw) -> tuple[float, ...]:
    return (*precision_recall(real, fake, k, **kw), *density_coverage(real, fake, k, **kw))


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("block", [7, 130, None])
def test_functions_match_a_brute_force_computation(k, block):
    rng = np.random.default_rng(k)
    real = rng.standard_normal((40, 5))
    fake = rng.standard_normal((30, 5)) * 1.3 + 0.4
    kw = {} if block is None else {"block": block}  # 7: one row at a time; 130: uneven blocks
    ours = _prdc(torch.from_numpy(real), torch.from_numpy(fake), k, **kw)
    assert ours == pytest.approx(_brute_force(real, fake, k), rel=1e-12, abs=1e-12)
    radii = knn_radii(torch.from_numpy(real), k, **kw)
    expected = np.sort(np.linalg.norm(real[:, None] - real[None], axis=-1), axis=1)[:, k]
    np.testing.assert_allclose(radii.numpy(), expected, rtol=1e-12)


def test_a_set_against_itself_scores_one_and_far_sets_zero():
    x = torch.randn(50, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for k in (1, 3, 5):
        # density: each open ball holds its centre and the k - 1 nearer neighbours
        assert _prdc(x, x.clone(), k) == (1.0, 1.0, 1.0, 1.0)
        assert _prdc(x, x + 100, k) == (0.0, 0.0, 0.0, 0.0)


def test_a_one_dimensional_case_by_hand():
    real = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])
    fake = torch.tensor([[0.5], [8.0], [20.0]])
    # k = 1 radii: real 1, 1, 2, 3, 4; generated 7.5, 7.5, 12
    assert knn_radii(real, 1).tolist() == [1.0, 1.0, 2.0, 3.0, 4.0]
    # 0.5 lies in the balls of 0 and 1, 8 in those of 6 and 10, 20 in none; the ball of 3 is
    # the only real ball without a generated sample; the generated balls hold every real one
    assert precision_recall(real, fake, 1) == (pytest.approx(2 / 3), 1.0)
    assert density_coverage(real, fake, 1) == (pytest.approx(4 / 3), pytest.approx(4 / 5))


def test_balls_are_open_and_duplicates_are_neighbours_at_distance_zero():
    real = torch.tensor([[0.0], [1.0], [3.0]])  # k = 1 radii 1, 1, 2
    on_the_sphere = torch.tensor([[-1.0], [-1.5]])  # -1 is at distance exactly 1 from 0
    assert precision_recall(real, on_the_sphere, 1) == (0.0, 0.0)
    assert density_coverage(real, on_the_sphere[:1], 1) == (0.0, 0.0)
    copies = torch.tensor([[0.0], [0.0], [5.0]])
    assert knn_radii(copies, 1).tolist() == [0.0, 0.0, 5.0]
    # a radius of 0 is an empty open ball: the copy at 0 is not inside it
    assert precision_recall(copies, torch.tensor([[0.0], [5.0]]), 1)[0] == 0.5


def test_a_large_offset_changes_nothing():
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(60, 8, dtype=torch.float64, generator=gen)
    fake = torch.randn(50, 8, dtype=torch.float64, generator=gen) * 1.2
    assert _prdc(real + 1e4, fake + 1e4, 3) == pytest.approx(_prdc(real, fake, 3), abs=1e-12)


def test_mode_dropping_lowers_recall_and_coverage_noise_lowers_precision_and_density():
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(8, 5, dtype=torch.float64, generator=gen) * 10

    def draw(n, modes, noise=0.0):
        idx = torch.tensor(list(modes))[torch.randint(len(modes), (n,), generator=gen)]
        x = centers[idx] + torch.randn(n, 5, dtype=torch.float64, generator=gen)
        return x + noise * torch.randn(n, 5, dtype=torch.float64, generator=gen)

    real = draw(800, range(8))

    def scores(fake):
        (p, r), (d, c) = precision_recall(real, fake, 3), density_coverage(real, fake, 5)
        return p, r, d, c

    p, r, d, c = scores(draw(800, range(8)))  # the same distribution
    assert min(p, r, c) > 0.8 and 0.8 < d < 1.25
    p, r, d, c = scores(draw(800, range(4)))  # half of the modes, well drawn
    assert p > 0.8 and d > 0.8 and r < 0.6 and c < 0.6
    p, r, d, c = scores(draw(800, range(8), noise=3.0))  # every mode, bad samples
    assert p < 0.3 and d < 0.3 and r > 0.8  # recall alone does not see it


def test_the_functions_refuse_too_few_samples_and_mismatched_features():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="N >= 6"):
        density_coverage(x, x, k=5)
    with pytest.raises(ValueError, match="generated features must be"):
        precision_recall(torch.randn(10, 3), x, k=5)
    with pytest.raises(ValueError, match="differ in size"):
        precision_recall(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(ValueError, match="k must be >= 1"):
        knn_radii(x, 0)


def test_the_reference_prdc_package_gives_the_same_values():
    prdc = pytest.importorskip(
        "prdc", reason="the reference package prdc (clovaai; pip install prdc scikit-learn) is "
                       "not installed")
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 16))
    fake = rng.standard_normal((250, 16)) * 1.1 + 0.2
    for k in (3, 5):
        theirs = prdc.compute_prdc(real, fake, nearest_k=k)
        ours = _prdc(torch.from_numpy(real), torch.from_numpy(fake), k)
        expected = tuple(float(theirs[m]) for m in ("precision", "recall", "density", "coverage"))
        assert ours == pytest.approx(expected, rel=1e-12)


class Identity(nn.Module):
    def forward(self, x):
        return x


def test_the_metric_accumulates_chunks_and_takes_a_reference():
    gen = torch.Generator().manual_seed(2)
    real = torch.randn(120, 6, dtype=torch.float64, generator=gen)
    fake = torch.randn(90, 6, dtype=torch.float64, generator=gen) + 0.5
    expected = (*precision_recall(real, fake, 3), *density_coverage(real, fake, 5))
    metric = PrecisionRecallDensityCoverage(Identity(), k_pr=3, k_dc=5)
    for chunk in real.split(50):
        metric.update(chunk, real=True)
    for chunk in fake.split(40):
        metric.update(chunk)
    assert tuple(float(v) for v in metric.compute()) == expected
    cached = PrecisionRecallDensityCoverage(Identity(), k_pr=3, k_dc=5)
    cached.set_reference(real)
    cached.update(fake)
    assert tuple(float(v) for v in cached.compute()) == expected


class Pool(FeatureNetwork):
    """Stand-in feature network: 4x4 average pools of images ``(B, 1, 8, 8)`` (16-d) or of every
    frame of clips ``(B, 1, T, 8, 8)`` (16·T-d)."""

    name = "pool"
    sha256 = "0" * 64
    resize = "none"

    def __init__(self, standard: bool = False) -> None:
        super().__init__()
        self.standard = standard

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x.flatten(1, -3), 4).flatten(1)


class RandomImages(GANDataModule):
    def __init__(self, n: int) -> None:
        super().__init__(batch_size=8)
        self.spec = DataSpec(shape=(1, 8, 8))
        self.images = torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1

    def train_dataloader(self) -> DataLoader:
        labels = torch.zeros(len(self.images), dtype=torch.long)
        return DataLoader(TensorDataset(self.images, labels), batch_size=8)


def _ctx(fake, dm, cache, **kw) -> EvalContext:
    return EvalContext(module=FixedSamples(fake, iteration=7), datamodule=dm, seed=3,
                       cache_dir=str(cache), batch_size=16, **kw)


def _expected(real_features: Tensor, fake_features: Tensor) -> list[float]:
    a, b = real_features.double().numpy(), fake_features.double().numpy()
    return [*_brute_force(a, b, 3)[:2], *_brute_force(a, b, 5)[2:]]


@pytest.mark.parametrize("standard", [False, True])
def test_prdc_evaluator_values_cards_and_the_cache_it_shares_with_fid(tmp_path, standard):
    dm = RandomImages(90)
    fake = (dm.images[:50] + 0.3 * torch.randn(50, 1, 8, 8,
                                               generator=torch.Generator().manual_seed(1)))
    cache = tmp_path / "cache"

    def factory(cache_dir=None):
        return Pool(standard)

    scores = PRDC(factory, n_fake=50, n_real=60)(_ctx(fake, dm, cache, data_config={"n": 90}))
    suffix = "50" if standard else "_pool"
    assert [s.name for s in scores] == [f"{m}{suffix}" for m in PRDC.METRICS]
    # independent: the first 60 of the seed-3 permutation, features by hand, loops
    order = torch.randperm(90, generator=torch.Generator().manual_seed(3))[:60]
    net = Pool()
    expected = _expected(net(dm.images[order]), net(fake))
    assert [s.value for s in scores] == pytest.approx(expected, rel=1e-12)
    for s, k in zip(scores, (3, 3, 5, 5), strict=True):
        assert CARD_FIELDS <= set(s.card) and s.card["metric"] == s.name
        assert (s.card["k"], s.card["n_real"], s.card["n_fake"]) == (k, 60, 50)
        assert (s.card["feature_network"], s.card["seed"], s.card["iteration"]) == ("pool", 3, 7)
        assert s.card["ema"] is False and s.higher_is_better
    # the real features were cached; PRDC again and FID on the same real samples read them
    again = PRDC(factory, n_fake=50, n_real=60)(_ctx(fake, dm, cache, data_config={"n": 90}))
    assert [s.value for s in again] == [s.value for s in scores]
    FID(factory, n_fake=50, n_real=60)(_ctx(fake, dm, cache, data_config={"n": 90}))
    assert len(list((cache / "reference").iterdir())) == 1


def test_video_prdc_cuts_clips_as_fvd_does_and_shares_its_cache(tmp_path):
    dm = RandomClipsDataModule(frames=20, size=8, length=40)
    fake = torch.rand(32, 1, 18, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    cache = tmp_path / "cache"

    def factory(cache_dir=None):
        return Pool()

    scores = VideoPRDC(factory, n_fake=32, n_real=32)(_ctx(fake, dm, cache, data_config={}))
    assert [s.name for s in scores] == [f"{m}_pool_16f" for m in PRDC.METRICS]
    # independent: FVD's real clips (offsets from a generator seeded 3 + 1), 16 frames by hand
    net = Pool()
    expected = _expected(net(fvd_real_clips(dm, 32, seed=3)), net(fake[:, :, :16]))
    assert [s.value for s in scores] == pytest.approx(expected, rel=1e-12)
    assert all(s.card["frames"] == 16 and s.card["n_real"] == 32 for s in scores)
    assert [s.card["k"] for s in scores] == [3, 3, 5, 5]
    (fvd,) = FVD(factory, n_fake=32, n_real=32)(_ctx(fake, dm, cache, data_config={}))
    assert fvd.name == "fvd_pool_16f" and len(list((cache / "reference").iterdir())) == 1
    with pytest.raises(ValueError, match="T >= 16"):
        VideoPRDC(factory, n_fake=4, n_real=8)(_ctx(fake[:, :, :8], dm, tmp_path / "c2",
                                                    data_config={}))


def test_metric_configs_build_their_evaluators():
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from gan_lab.train import CONF_DIR

    for entry, target, frames in [("prdc_mnistnet", PRDC, None), ("prdc", PRDC, None),
                                  ("prdc_mmnistnet", VideoPRDC, 16), ("prdc_i3d", VideoPRDC, 16)]:
        evaluator = instantiate(OmegaConf.load(f"{CONF_DIR}/metrics/{entry}.yaml")[entry])
        assert type(evaluator) is target and getattr(evaluator, "frames", None) == frames
        assert (evaluator.k_pr, evaluator.k_dc) == (3, 5)
