"""mmnistnet: targets from the Moving MNIST metadata, how outputs are read, input handling,
deterministic cached training, fvd_mmnistnet_16f end to end, and (slow) the trained network's
accuracies and its separation of real clips from corrupted ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_lab.cli import main as cli_main
from gan_lab.metrics.features import mmnistnet
from gan_lab.metrics.features.moving_mnist import (
    ClipTargets,
    MovingMNISTClassifier,
    MovingMNISTNet,
    MovingMNISTNetRecipe,
    accuracies,
    clip_batch,
    dense_targets,
    direction_bins,
    moving_mnist_clips,
)
from gan_lab.metrics.features.shipped import shipped_path
from tests.helpers import frechet_by_scipy, fvd_real_clips, moving_mnist_fvd


def test_direction_bins_are_45_degree_sectors_in_image_coordinates():
    # (v_y, v_x): right -> 0, down the rows (+y) -> 2, left -> 4, up -> 6; 22° stays in bin 0
    v = np.array([[0.0, 3.6], [3.6, 0.0], [0.0, -3.6], [-3.6, 0.0], [-2.5, -2.6],
                  [np.sin(0.38), np.cos(0.38)], [np.sin(0.41), np.cos(0.41)]])
    assert direction_bins(v).tolist() == [0, 2, 4, 6, 5, 0, 1]


def test_clip_targets_come_from_the_generator_metadata():
    dataset = moving_mnist_clips("train", seed=3)
    x, t = clip_batch(dataset, [5, 6])
    assert x.shape == (2, 1, 16, 64, 64) and x.min() == -1 and x.max() == 1
    clip = dataset.clip(6)
    assert torch.equal(x[1], dataset[6][0])  # the data set's own clip 6
    assert t.labels[1].tolist() == clip.labels.tolist()
    for g, frame in enumerate((0, 4, 8, 12)):
        centre = np.floor(clip.positions[frame]) + 14  # (D, 2) pixel centre of each digit
        assert t.cells[1, g].tolist() == (centre // 8).astype(int).tolist()
        assert t.bins[1, g].tolist() == direction_bins(clip.velocities[frame]).tolist()


def _targets(labels, cells, bins):
    """One clip, one group per entry of ``cells``/``bins`` repeated to the 4 groups."""
    return ClipTargets(labels=torch.tensor([labels]),
                       cells=torch.tensor([cells] * 4)[None],
                       bins=torch.tensor([bins] * 4)[None])


def test_dense_targets_mark_digit_centres_and_share_a_cell_between_two_digits():
    classes, directions = dense_targets(_targets([3, 7], [[2, 5], [6, 1]], [0, 2]))
    assert classes.shape == (1, 11, 4, 8, 8) and directions.shape == (1, 8, 4, 8, 8)
    assert classes[0, 3, :, 2, 5].tolist() == [1.0] * 4
    assert classes[0, 7, :, 6, 1].tolist() == [1.0] * 4
    assert classes[0, 10].sum() == 4 * (64 - 2)  # background everywhere else
    assert directions[0, 0, :, 2, 5].tolist() == [1.0] * 4 and directions.sum() == 8
    shared, _ = dense_targets(_targets([3, 7], [[4, 4], [4, 4]], [0, 2]))
    assert shared[0, [3, 7, 10], 0, 4, 4].tolist() == [0.5, 0.5, 0.0]


def _outputs(present, cells, bins, wrong_cell_bin=None):
    """Presence and dense logits that say ``present`` classes, and at ``cells`` (class ->
    (row, col)) the class and its ``bins`` direction; another cell may claim a wrong bin."""
    presence = torch.full((1, 10), -5.0)
    presence[0, present] = 5.0
    dense = torch.zeros(1, 19, 4, 8, 8)
    dense[0, 10] = 5.0
    for (c, (r, k)), b in zip(cells.items(), bins, strict=True):
        dense[0, c, :, r, k], dense[0, 10, :, r, k] = 9.0, 0.0
        dense[0, 11 + b, :, r, k] = 5.0
    if wrong_cell_bin is not None:
        dense[0, 11 + wrong_cell_bin, :, 0, 0] = 5.0
    return presence, dense


def test_accuracies_read_the_digit_set_and_each_digits_direction_at_its_cell():
    t = _targets([3, 7], [[2, 5], [6, 1]], [0, 2])
    perfect = accuracies(*_outputs([3, 7], {3: (2, 5), 7: (6, 1)}, [0, 2], 6), t)
    assert perfect == {"val_digit_accuracy": 1.0, "val_digit_pair_accuracy": 1.0,
                       "val_direction_accuracy": 1.0, "val_direction_pair_accuracy": 1.0}
    # one digit missed, an extra class claimed; the 7 said to move the wrong way
    half = accuracies(*_outputs([3, 5], {3: (2, 5), 7: (6, 1)}, [0, 4]), t)
    assert half == {"val_digit_accuracy": 0.5, "val_digit_pair_accuracy": 0.0,
                    "val_direction_accuracy": 0.5, "val_direction_pair_accuracy": 0.0}


def test_features_of_grey_16_frame_clips_of_any_size():
    net = MovingMNISTNet(MovingMNISTClassifier())
    assert net.num_features == 512
    assert net(torch.zeros(2, 1, 16, 64, 64)).shape == (2, 512)
    assert net(torch.zeros(3, 1, 16, 32, 32)).shape == (3, 512)
    with pytest.raises(ValueError, match=r"\(B, 1, 16, H, W\)"):
        net(torch.zeros(2, 3, 16, 64, 64))
    with pytest.raises(ValueError, match=r"16-frame"):
        net(torch.zeros(2, 1, 8, 64, 64))


def test_training_is_deterministic_and_keyed_by_its_recipe(tmp_path):
    recipe = MovingMNISTNetRecipe(steps=3, batch_size=4, val_clips=8)
    first = recipe.train()
    assert first.meta["recipe"]["steps"] == 3 and "val_direction_accuracy" in first.meta
    assert recipe.train().sha256 == first.sha256  # trained again: the same weights
    assert recipe.load(first.save(tmp_path / "w.pt")).sha256 == first.sha256  # read back
    other = MovingMNISTNetRecipe(steps=3, batch_size=4, val_clips=8, seed=1)
    assert other.cache_path(str(tmp_path)) != recipe.cache_path(str(tmp_path))


def _features(net, x):
    with torch.no_grad():
        return torch.cat([net(x[i : i + 256]) for i in range(0, len(x), 256)])


def test_fvd_mmnistnet_16f_end_to_end_matches_an_independent_computation(tmp_path):
    factory = mmnistnet
    net = factory()
    fake = torch.rand(64, 1, 16, 64, 64) * 2 - 1
    score, dm = moving_mnist_fvd(factory, fake, tmp_path / "cache")
    assert score.name == "fvd_mmnistnet_16f"
    assert score.card["feature_network"] == "mmnistnet"
    assert score.card["weights_sha256"] == net.sha256 and score.card["frames"] == 16
    # the same real clips and fakes, features by hand, scipy's sqrtm
    expected = frechet_by_scipy(_features(net, fvd_real_clips(dm, 64)), _features(net, fake))
    assert score.value == pytest.approx(expected, rel=1e-6)


def test_metric_config_and_train_features_name_mmnistnet(tmp_path, capsys):
    from omegaconf import OmegaConf

    from gan_lab.train import CONF_DIR

    cfg = OmegaConf.load(f"{CONF_DIR}/metrics/fvd_mmnistnet.yaml").fvd_mmnistnet
    assert cfg.feature._target_ == "gan_lab.metrics.features.mmnistnet" and cfg.frames == 16
    out = tmp_path / "copy.pt"
    out.write_bytes(shipped_path("mmnistnet").read_bytes())
    cli_main(["train-features", "mmnistnet", f"out={out}"])
    printed = capsys.readouterr().out
    assert "mmnistnet: already trained" in printed
    assert "held-out digit pair accuracy" in printed and "held-out direction accuracy" in printed


def _corruptions(real: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """Real clips made wrong in one way each: frozen, time-shuffled, noise."""
    gen = torch.Generator().manual_seed(seed)
    shuffled = torch.stack([c[:, torch.randperm(16, generator=gen)] for c in real])
    return {
        "static": real[:, :, :1].expand_as(real).contiguous(),
        "shuffled": shuffled,
        "noise": torch.rand(real.shape, generator=gen) * 2 - 1,
    }


@pytest.mark.slow
def test_shipped_mmnistnet_recognises_digits_and_directions_and_separates_corrupted_clips():
    net = mmnistnet()
    meta = net.meta
    assert meta["val_digit_accuracy"] > 0.9 and meta["val_digit_pair_accuracy"] > 0.8
    assert meta["val_direction_accuracy"] > 0.85 and meta["val_direction_pair_accuracy"] > 0.75
    # FVD features: other real clips are close, each corruption of them is far (measured:
    # 47 between the two real sets; frozen 525, time-shuffled 203, noise 5,124)
    dataset = moving_mnist_clips("val", seed=0)
    real = clip_batch(dataset, range(1024))[0]
    other = clip_batch(dataset, range(1024, 2048))[0]
    real_features = _features(net, real)
    base = frechet_by_scipy(real_features, _features(net, other))
    for name, fake in _corruptions(other, seed=0).items():
        assert frechet_by_scipy(real_features, _features(net, fake)) > 4 * base, name
