"""The hand-written loop of benchmarks/train_speed.py does gan_lab's per-iteration work."""

import sys
from pathlib import Path

import pytest
import torch

from gan_lab.build import load_checkpoint
from gan_lab.train import train
from tests.helpers import compose_train

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import train_speed  # noqa: E402


# PacGAN's toy recipe (no EMA), and WGAN-GP (n_critic 5, a gradient penalty, an EMA)
@pytest.mark.parametrize("overrides", [["experiment=pacgan1_grid25"],
                                       ["model=wgan_gp", "data=grid25"]])
def test_the_hand_written_loop_ends_where_gan_lab_ends(tmp_path, overrides):
    cfg = compose_train([*overrides, "iterations=3"], tmp_path)
    hand = train_speed.hand_written_loop(cfg)
    train(cfg)
    ours = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    _, untrained = train_speed.build(cfg)
    assert (hand.iteration, hand.d_steps) == (ours.iteration, ours.d_steps) == (
        3, 3 * cfg.model.n_critic)
    for name, value in ours.state_dict().items():
        assert torch.equal(hand.state_dict()[name], value), name
    for net in ("generator", "discriminators"):
        trained, initial = (torch.nn.utils.parameters_to_vector(getattr(m, net).parameters())
                            for m in (hand, untrained))
        assert not torch.equal(trained, initial), net
