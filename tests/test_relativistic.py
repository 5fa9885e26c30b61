"""RpGAN (relativistic pairing) loss against hand computations, and the generator step that
feeds it D's logits on the real batch in every training scheme."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lab.losses import (
    NonSaturatingLoss,
    RelativisticPairingLoss,
    relativistic_discriminator_loss,
    relativistic_generator_loss,
)


def softplus(t: float) -> float:
    return math.log1p(math.exp(t))


def test_relativistic_losses_by_hand():
    real = torch.tensor([1.0, 2.0, -0.5])
    fake = torch.tensor([0.5, -1.0, 0.25])
    d = sum(softplus(f - r) for r, f in zip(real.tolist(), fake.tolist(), strict=True)) / 3
    g = sum(softplus(r - f) for r, f in zip(real.tolist(), fake.tolist(), strict=True)) / 3
    assert relativistic_discriminator_loss(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert relativistic_generator_loss(fake, real).item() == pytest.approx(g, rel=1e-6)
    loss = RelativisticPairingLoss()
    assert loss.uses_real_logits and not NonSaturatingLoss().uses_real_logits
    assert loss.discriminator(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert loss.generator(fake, real).item() == pytest.approx(g, rel=1e-6)
    # equal logits: D cannot tell the pair apart, log 2 for both players
    same = torch.zeros(4)
    assert loss.discriminator(same, same).item() == pytest.approx(math.log(2))


def test_relativistic_losses_pair_patch_logits_and_stay_finite():
    real, fake = torch.tensor([[80.0, -80.0]]), torch.tensor([[-80.0, 80.0]])
    assert relativistic_discriminator_loss(real, fake).item() == pytest.approx(160.0 / 2)
    assert torch.isfinite(relativistic_generator_loss(fake, real))
    with pytest.raises(ValueError, match="same shape"):
        relativistic_discriminator_loss(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="logits on real samples"):
        RelativisticPairingLoss().generator(torch.zeros(3))


def test_relativistic_gradients_push_fake_above_its_pair():
    real = torch.tensor([0.0, 1.0], requires_grad=True)
    fake = torch.tensor([0.0, 1.0], requires_grad=True)
    relativistic_generator_loss(fake, real).backward()
    assert (fake.grad < 0).all()  # raising a fake logit lowers G's loss
    torch.testing.assert_close(real.grad, -fake.grad)


class RecordingLoss(RelativisticPairingLoss):
    """Records the logits the generator's loss is called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[torch.Tensor, torch.Tensor | None]] = []

    def generator(self, fake_logits, real_logits=None):
        self.calls.append((fake_logits.detach(), None if real_logits is None else
                           real_logits.detach()))
        return super().generator(fake_logits, real_logits)


@pytest.mark.parametrize("overrides", [
    ["data=grid25", "model=gan"],
    ["data=mnist", "model=pacgan", "data.batch_size=4"],
    ["data=bouncing_shapes", "model=mocogan_micro", "data.frames=16", "data.batch_size=2",
     "data.resolution=32"],
    ["data=moving_mnist", "model=video_prediction_micro", "data.batch_size=2",
     "data.frames=8"],
], ids=["image-vector", "image-packed", "video-two-D", "prediction"])
def test_generator_step_gets_real_logits_in_every_scheme(overrides, tmp_path):
    from hydra.utils import instantiate

    from gan_lab.build import build_module
    from tests.helpers import compose_train

    cfg = compose_train([*overrides, "loss=relativistic"], tmp_path)
    dm = instantiate(cfg.data, _convert_="all")
    module = build_module(cfg, dm.spec)
    module.loss = RecordingLoss()
    dm.setup("fit")
    real, y = next(iter(dm.train_dataloader()))
    torch.manual_seed(0)
    loss, _ = module.generator_loss(real, y)
    assert len(module.loss.calls) == len(module.discriminators)
    for fake_logits, real_logits in module.loss.calls:
        assert real_logits is not None and real_logits.shape == fake_logits.shape
    assert torch.isfinite(loss)
