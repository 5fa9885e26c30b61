"""mmnistnet: targets from the Moving MNIST metadata, input handling, trained accuracy (slow)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gan_lab.metrics.features.moving_mnist import (
    MovingMNISTClassifier,
    MovingMNISTNet,
    _targets,
    mmnistnet,
)


def _clip(labels, velocities):
    v = np.asarray(velocities, dtype=float)[None]  # (T=1, D, 2) as (v_y, v_x)
    return SimpleNamespace(labels=np.asarray(labels),
                           directions=np.arctan2(v[..., 0], v[..., 1]))


def test_targets_are_the_digits_and_the_45_degree_direction_bins():
    # right (0°) -> bin 0; down in image rows (+y: 90°) -> bin 2; up (-y: 270°) -> bin 6
    t = _targets(_clip([3, 7], [[0.0, 3.6], [3.6, 0.0]]))
    assert t[:10].nonzero().flatten().tolist() == [3, 7]
    assert t[10:].nonzero().flatten().tolist() == [0, 2]
    t = _targets(_clip([5, 5], [[-3.6, 0.0], [-2.5, -2.6]]))  # up; up-left (~226°) -> bin 5
    assert t[:10].nonzero().flatten().tolist() == [5]
    assert t[10:].nonzero().flatten().tolist() == [5, 6]


def test_features_of_any_length_and_frame_size():
    net = MovingMNISTNet(MovingMNISTClassifier())
    assert net(torch.zeros(2, 1, 16, 64, 64)).shape == (2, 128)
    assert net(torch.zeros(3, 1, 20, 32, 32)).shape == (3, 128)
    with pytest.raises(ValueError, match=r"\(B, 1, T, H, W\)"):
        net(torch.zeros(2, 3, 16, 64, 64))


@pytest.mark.slow
def test_trained_mmnistnet_recognises_digits_and_directions(tmp_path):
    net = mmnistnet(cache_dir=str(tmp_path))
    assert net.meta["val_digit_accuracy"] > 0.5
    assert net.meta["val_direction_accuracy"] > 0.5
    assert mmnistnet(cache_dir=str(tmp_path)).sha256 == net.sha256  # loaded from the cache
