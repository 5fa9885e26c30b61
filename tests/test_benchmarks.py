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


def _busy(n: int) -> float:
    total = 0.0
    for i in range(n):
        total += i * 0.5
    return total


def _before() -> float:
    return _busy(10)


def _after() -> float:
    return _busy(10)


def test_a_profiled_clock_profiles_the_timed_iterations_only(tmp_path):
    import timing

    clock = timing.IterationClock(1, 3, profile=tmp_path / "p.prof")
    _before()  # before the warm-up tick: outside the profile
    clock.tick(1)
    for _ in range(2):
        _busy(20_000)
    clock.tick(3)
    _after()  # after the last tick: outside too
    names = {name for _, _, name in train_speed.pstats.Stats(str(tmp_path / "p.prof")).stats}
    assert "_busy" in names and not names & {"_before", "_after"}
    assert clock.result()["s_per_it"] > 0


def test_the_profile_report_names_what_one_variant_spends_more_time_in(tmp_path):
    import cProfile

    for variant, n in zip(train_speed.VARIANTS, (1, 1, 50_000), strict=True):
        profiler = cProfile.Profile()
        profiler.enable()
        _busy(n)
        profiler.disable()
        profiler.dump_stats(train_speed.profile_path(tmp_path, "case", variant))
    report = train_speed.profile_report(tmp_path, "case", iterations=1, top=1)
    gan_lab_part = report.split("gan_lab over minimal Lightning:")[1].split("minimal")[0]
    assert "_busy" in gan_lab_part


def test_train_speed_profiles_every_variant_in_fresh_processes(tmp_path, capsys):
    """The path a user takes: three child processes (gan_lab's with its profile passed through
    a Hydra override), one profile each, and the report."""
    train_speed.main(["--iterations", str(train_speed.WARMUP + 2), "--cases", "pacgan",
                      "--profile", str(tmp_path)])
    for variant in train_speed.VARIANTS:
        assert train_speed.profile_path(tmp_path, "pacgan", variant).stat().st_size > 0, variant
    out = capsys.readouterr().out
    assert "gan_lab over minimal Lightning:" in out and "training_step" in out
