"""R3GAN: its nets (shapes, no normalization, fix-up initialisation) and the preset on every
image and video data set."""

from __future__ import annotations

import math

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from gan_lab.build import build_module
from gan_lab.nets import R3GANDiscriminator, R3GANGenerator
from gan_lab.nets.r3gan import ResidualBlock
from gan_lab.train import train
from tests.helpers import compose_train


@pytest.mark.parametrize("shape", [(3, 28, 28), (1, 32, 32), (3, 16, 16), (3, 4, 4)])
def test_shapes_and_stage_plan(shape):
    torch.manual_seed(0)
    g = R3GANGenerator(shape, width=16, max_width=64, latent_dim=8)
    d = R3GANDiscriminator(shape, width=16, max_width=64)
    x = g(g.sample_latent(3))
    assert x.shape == (3, *shape)
    assert d(x).shape == (3,)
    stages = [m for m in g.stages if isinstance(m, nn.Sequential)]
    base = 7 if shape[1] == 28 else 4
    assert len(stages) == int(math.log2(shape[1] // base)) + 1
    assert g.basis.shape[1:] == (base, base)


def test_no_normalization_and_blocks_start_as_identity():
    g = R3GANGenerator((3, 32, 32), width=16, blocks=2)
    d = R3GANDiscriminator((3, 32, 32), width=16, blocks=2)
    for net in (g, d):
        assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm))
                       for m in net.modules())
    block = next(m for m in d.modules() if isinstance(m, ResidualBlock))
    x = torch.randn(2, block.expand.in_channels, 8, 8)
    torch.testing.assert_close(block(x), x)  # the last layer of every block is zero
    assert (block.project.weight == 0).all()


def test_fixup_gain_shrinks_with_depth():
    """Weights of a block's first layers ~ N(0, (gain · L^(-1/4))² / fan_in)."""
    torch.manual_seed(1)
    stds = {}
    for total in (1, 16):
        block = ResidualBlock(64, 2, 16, total_blocks=total)
        fan_in = block.expand.weight[0].numel()
        stds[total] = block.expand.weight.std().item() * math.sqrt(fan_in)
    assert stds[1] == pytest.approx(math.sqrt(2 / 1.04), rel=0.05)
    assert stds[16] / stds[1] == pytest.approx(16 ** -0.25, rel=0.05)


def test_bad_shapes_and_options():
    with pytest.raises(ValueError, match="4·2\\^k"):
        R3GANGenerator((3, 24, 24))
    with pytest.raises(ValueError, match="unconditional"):
        R3GANDiscriminator((3, 32, 32), num_classes=10)
    with pytest.raises(ValueError, match="group_size"):
        R3GANGenerator((3, 32, 32), width=12, group_size=16)


@pytest.mark.parametrize("data, extra", [
    ("mnist", []),
    ("mnist", ["net=r3gan", "net.generator.width=16", "net.discriminator.width=16"]),
    ("stacked_mnist", ["net=r3gan", "net.generator.width=16", "net.discriminator.width=16"]),
    ("moving_mnist", ["net=mocogan_micro", "data.resolution=32", "data.length=8",
                      "callbacks.samples.n=4"]),
    ("bouncing_shapes", ["net=mocogan_micro", "data.resolution=32", "data.length=8",
                         "callbacks.samples.n=4"]),
], ids=["mnist-dcgan", "mnist-r3gan", "stacked-r3gan", "moving-mnist-mocogan",
        "shapes-mocogan"])
def test_r3gan_preset_trains_on_image_and_video_data(data, extra, tmp_path):
    cfg = compose_train(["model=r3gan", f"data={data}", "data.batch_size=4", *extra], tmp_path)
    assert cfg.loss._target_.endswith("RelativisticPairingLoss")
    assert cfg.regularizer.samples == "both" and cfg.d_norm == "none"
    metrics = train(cfg)
    assert metrics["iteration"] == 2
    assert math.isfinite(metrics["loss/g"]) and metrics["penalty/d" if "mnist" in data
                                                        and "moving" not in data
                                                        else "penalty/d_video"] > 0


def test_r3gan_refuses_batchnorm_discriminators_with_the_key_to_set(tmp_path):
    cfg = compose_train(["model=r3gan", "data=mnist", "d_norm=batch"], tmp_path)
    dm = instantiate(cfg.data)
    with pytest.raises(ValueError, match="BatchNorm.*d_norm=none for the DCGAN and MoCoGAN nets"):
        build_module(cfg, dm.spec)
