import math

import pytest
import torch

from gan_lab.data import DataSpec, Grid25DataModule, Ring8DataModule


def first_batches(dm, n=3):
    it = iter(dm.train_dataloader())
    return [next(it) for _ in range(n)]


def test_ring_has_8_distinct_modes_on_unit_circle_spaced_pi_over_4():
    dm = Ring8DataModule()
    c = dm.centers.double()
    assert c.shape == (8, 2)
    assert torch.allclose(c.norm(dim=1), torch.ones(8, dtype=torch.float64), atol=1e-6)
    # linspace(0, 2*pi, 8) would repeat the first mode and space the others 2*pi/7 apart.
    dist = torch.cdist(c, c) + 10 * torch.eye(8, dtype=torch.float64)
    assert dist.min() > 2 * math.sin(math.pi / 8) - 1e-6
    angles = torch.atan2(c[:, 1], c[:, 0]).remainder(2 * math.pi)
    assert torch.allclose(angles, torch.arange(8, dtype=torch.float64) * math.pi / 4, atol=1e-6)
    assert dm.std == 0.01 and dm.scale == 1.25
    assert dm.spec == DataSpec(shape=(2,), num_classes=8, scale=1.25)


def test_ring_samples_cluster_at_their_mode_with_std_0_01():
    dm = Ring8DataModule(batch_size=4000, seed=1)
    x, y = first_batches(dm, 1)[0]
    data = dm.spec.to_data_space(x)
    assert set(y.tolist()) == set(range(8))
    resid = data - dm.centers[y]
    assert resid.std().item() == pytest.approx(0.01, rel=0.1)
    assert resid.mean(0).abs().max() < 0.002
    # every point is nearest to the mode it was drawn from
    assert torch.equal(torch.cdist(data, dm.centers).argmin(1), y)
    # modes are drawn uniformly
    counts = torch.bincount(y, minlength=8).float()
    assert (counts / 4000 - 1 / 8).abs().max() < 0.03


def test_grid_has_the_25_centres_and_std_0_05():
    dm = Grid25DataModule(batch_size=5000, seed=3)
    vals = [-4.0, -2.0, 0.0, 2.0, 4.0]
    expected = {(a, b) for a in vals for b in vals}
    assert {tuple(p) for p in dm.centers.tolist()} == expected
    assert len(dm.centers) == 25 and dm.std == 0.05 and dm.scale == 5.0
    assert dm.spec == DataSpec(shape=(2,), num_classes=25, scale=5.0)
    x, y = first_batches(dm, 1)[0]
    resid = dm.spec.to_data_space(x) - dm.centers[y]
    assert resid.std().item() == pytest.approx(0.05, rel=0.1)
    assert set(y.tolist()) == set(range(25))


@pytest.mark.parametrize("cls", [Ring8DataModule, Grid25DataModule])
def test_batches_shape_dtype_range_and_round_trip(cls):
    dm = cls(batch_size=256)
    for x, y in first_batches(dm):
        assert x.shape == (256, 2) and x.dtype == torch.float32
        assert y.shape == (256,) and y.dtype == torch.int64
        assert x.abs().max() <= 1.0
        # model -> data space puts the points back near the (data-space) centres
        assert (dm.spec.to_data_space(x) - dm.centers[y]).abs().max() < 6 * dm.std
        assert torch.allclose(dm.spec.to_data_space(x) / dm.scale, x)


def test_stream_is_deterministic_per_seed_and_not_repeating():
    a = first_batches(Ring8DataModule(seed=7))
    b = first_batches(Ring8DataModule(seed=7))
    c = first_batches(Ring8DataModule(seed=8))
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert not torch.equal(a[0][0], c[0][0])
    assert not torch.equal(a[0][0], a[1][0])


def test_workers_get_distinct_streams():
    dm = Ring8DataModule(batch_size=64, num_workers=2, seed=0)
    it = iter(dm.train_dataloader())
    (x0, _), (x1, _) = next(it), next(it)  # one batch from each worker
    assert not torch.equal(x0, x1)


def test_unknown_constructor_key_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="radius_typo"):
        Ring8DataModule(radius_typo=2.0)
