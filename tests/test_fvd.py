"""FVD end to end with a small TorchScript stand-in for I3D, checked against an independent
computation on the same features."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.data import MovingMNISTDataModule
from gan_lab.metrics.features import i3d
from gan_lab.metrics.features import i3d as i3d_factory
from gan_lab.metrics.features.i3d import I3D_ENV
from tests.helpers import frechet_by_scipy, fvd_real_clips, moving_mnist_fvd


class StandInI3D(nn.Module):
    """I3D's calling convention; a fixed random projection of pooled frames; it records the
    shape and value range it was given (as the last three features)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = nn.Linear(3 * 16 * 7 * 7, 13)

    def forward(self, x: Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> Tensor:
        pooled = F.adaptive_avg_pool3d(x, (16, 7, 7)).flatten(1)
        seen = torch.stack([x.min(), x.max(), torch.tensor(float(x.shape[2] * 1000 + x.shape[3]))])
        return torch.cat([self.proj(pooled), seen.expand(len(x), 3)], dim=1)


@pytest.fixture()
def stand_in(tmp_path, monkeypatch):
    path = tmp_path / "i3d_torchscript.pt"
    torch.jit.script(StandInI3D()).save(str(path))
    monkeypatch.setenv(I3D_ENV, str(path))
    return path


def _fvd(clips, tmp_path):
    return moving_mnist_fvd(i3d_factory, clips, tmp_path / "cache")


def test_fvd_pipeline_matches_an_independent_computation(stand_in, tmp_path):
    fake = torch.rand(48, 1, 16, 64, 64) * 2 - 1  # noise clips
    score, dm = _fvd(fake, tmp_path)
    assert score.name == "fvd48_16f"
    assert score.card["frames"] == 16 and score.card["feature_network"] == "i3d"
    assert (score.card["n_real"], score.card["n_fake"], score.card["iteration"]) == (48, 48, 7)

    net = i3d()
    # the stand-in saw 16 frames of 224x224 in [-1, 1]
    seen = net(fake[:2])[0, -3:].tolist()
    assert seen[0] >= -1 and seen[1] <= 1 and seen[2] == 16 * 1000 + 224

    # independent: the same real clips and fakes, features by hand, scipy's sqrtm
    with torch.no_grad():
        expected = frechet_by_scipy(net(fvd_real_clips(dm, 48)), net(fake))
    assert score.value == pytest.approx(expected, rel=1e-6)


def test_fvd_is_small_for_clips_of_the_data_and_large_for_noise(stand_in, tmp_path):
    other = MovingMNISTDataModule(frames=16, length=64, batch_size=8, seed=99)
    data_like = torch.stack([other.train_dataloader().dataset[i][0] for i in range(64)])
    close, _ = _fvd(data_like, tmp_path)
    far, _ = _fvd(torch.rand(64, 1, 16, 64, 64) * 2 - 1, tmp_path)
    assert far.value > 20 * close.value


def test_fvd_refuses_short_clips_and_images(stand_in, tmp_path):
    with pytest.raises(ValueError, match="T >= 16"):
        _fvd(torch.zeros(16, 1, 8, 64, 64), tmp_path)


def test_missing_i3d_weights_say_which_file_and_where(tmp_path, monkeypatch):
    monkeypatch.delenv(I3D_ENV, raising=False)
    with pytest.raises(FileNotFoundError) as err:
        i3d(cache_dir=str(tmp_path))
    assert "i3d_torchscript.pt" in str(err.value) and I3D_ENV in str(err.value)
    assert str(tmp_path / "weights") in str(err.value)
