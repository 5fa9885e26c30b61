"""PacGAN packing: pack layout, the packed discriminator in training, and its errors."""

from __future__ import annotations

import pytest
import torch

from gan_lab.build import build_module
from gan_lab.data import Grid25DataModule, Ring8DataModule
from gan_lab.modules.image import ImageGAN
from gan_lab.nets import MLPDiscriminator, MLPGenerator
from gan_lab.nets.packing import pack, packed_shape
from gan_lab.train import train
from tests.helpers import compose_train


def test_pack_concatenates_consecutive_samples_along_the_first_data_axis():
    x = torch.arange(12.0).view(6, 2)
    packs = pack(x, 3)
    assert packs.shape == (2, 6)
    torch.testing.assert_close(packs[0], torch.cat([x[0], x[1], x[2]]))
    torch.testing.assert_close(packs[1], torch.cat([x[3], x[4], x[5]]))

    images = torch.randn(4, 3, 5, 5)
    packed = pack(images, 2)
    assert packed.shape == (2, 6, 5, 5)
    torch.testing.assert_close(packed[1, :3], images[2])
    torch.testing.assert_close(packed[1, 3:], images[3])
    assert pack(images, 1) is images


def test_packed_shape():
    assert packed_shape((2,), 4) == (8,)
    assert packed_shape((3, 32, 32), 2) == (6, 32, 32)
    assert packed_shape((1, 16, 64, 64), 3) == (3, 16, 64, 64)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_packing_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="model.packing"):
        packed_shape((2,), bad)


def test_pack_refuses_a_batch_it_cannot_split():
    with pytest.raises(ValueError, match=r"10 samples.*packs of 4.*data.batch_size"):
        pack(torch.zeros(10, 2), 4)


def test_the_discriminator_sees_packs_of_one_kind_during_training(tmp_path, monkeypatch):
    cfg = compose_train(
        ["experiment=pacgan4_grid25", "data.batch_size=8", "iterations=2"], tmp_path
    )
    seen_d_inputs, real_batches = [], []
    original = ImageGAN.discriminator_loss

    def recording(self, name, real, fake, y):
        if not seen_d_inputs:
            self.discriminators["d"].register_forward_hook(
                lambda mod, args, out: seen_d_inputs.append((args[0].detach(), out.shape))
            )
        real_batches.append((real.clone(), fake.clone()))
        return original(self, name, real, fake, y)

    monkeypatch.setattr(ImageGAN, "discriminator_loss", recording)
    train(cfg)

    # first D step: the real pack batch, then the fake one; then the G step's fake packs
    real, fake = real_batches[0]
    (d_real, out_real), (d_fake, _) = seen_d_inputs[0], seen_d_inputs[1]
    assert d_real.shape == (2, 8) and out_real == (2,)
    torch.testing.assert_close(d_real, pack(real, 4))
    torch.testing.assert_close(d_fake, pack(fake, 4))
    assert all(inp.shape == (2, 8) for inp, _ in seen_d_inputs)


def test_packed_model_builds_d_for_packs_and_g_for_single_samples(tmp_path):
    cfg = compose_train(["experiment=pacgan3_ring8"], tmp_path)
    module = build_module(cfg, Ring8DataModule().spec)
    d, g = module.discriminators["d"], module.generator
    assert isinstance(d, MLPDiscriminator) and isinstance(g, MLPGenerator)
    assert d.net[0].linear.in_features == 6  # 3 packed 2-D points into the first maxout layer
    assert g(g.sample_latent(5)).shape == (5, 2)
    assert module.packing == 3


def test_batch_size_not_divisible_by_packing_fails_before_training(tmp_path):
    cfg = compose_train(["experiment=pacgan4_grid25", "data.batch_size=10"], tmp_path)
    with pytest.raises(ValueError, match=r"data.batch_size=10 .*model.packing=4"):
        train(cfg)


def test_packing_refuses_conditional_models(tmp_path):
    cfg = compose_train(["model=pacgan", "data=grid25", "+model.conditional=true"], tmp_path)
    with pytest.raises(ValueError, match="model.packing > 1.*conditional"):
        build_module(cfg, Grid25DataModule().spec)


def test_pacgan_toy_recipe_follows_the_papers_code(tmp_path):
    cfg = compose_train(["experiment=pacgan2_grid25"], tmp_path, small=False)
    assert cfg.model.packing == 2 and cfg.data.batch_size == 200  # 100 packs of 2
    assert cfg.model.g_optimizer.lr == 1e-4 and list(cfg.model.g_optimizer.betas) == [0.8, 0.999]
    assert cfg.model.ema_decay is None
    module = build_module(cfg, Grid25DataModule(scale=cfg.data.scale).spec)
    g, d = module.generator, module.discriminators["d"]
    linears = [m for m in g.net if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [400, 400, 400, 400, 2]
    assert [m.bias is None for m in linears] == [True] * 4 + [False]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in g.net) == 4
    assert not isinstance(g.net[-1], torch.nn.Tanh)
    maxouts = [m for m in d.net if m.__class__.__name__ == "Maxout"]
    assert [(m.out_features, m.pieces) for m in maxouts] == [(200, 5)] * 3
    weight = maxouts[1].linear.weight
    assert abs(weight.std().item() - 0.02) < 0.002 and maxouts[1].linear.bias.abs().max() == 0
    assert module.spec.scale == 1.0
