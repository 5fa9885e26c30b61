"""Paper recipes (conf/experiment/): each composes, has a CPU-scale version, and the CPU-scale
image recipes train a few iterations."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gan_lab.build import build_module
from gan_lab.cli import compose
from gan_lab.data.base import DataSpec
from gan_lab.train import CONF_DIR, train
from tests.helpers import compose_train

EXPERIMENTS = sorted(p.stem for p in (Path(CONF_DIR) / "experiment").glob("*.yaml"))
PAPER = [e for e in EXPERIMENTS if not e.endswith("_cpu")]
CPU = [e for e in EXPERIMENTS if e.endswith("_cpu")]
# Video papers on data that can't be shipped, and their CPU-scale versions on generated clips.
VIDEO = {
    "vgan_golf": "vgan_moving_mnist_cpu",
    "tgan_ucf101": "tgan_moving_mnist_cpu",
    "mocogan_ucf101": "mocogan_moving_mnist_cpu",
    "dvdgan_ucf101": "dvdgan_bouncing_shapes_cpu",
    "video_prediction_ucf101": "video_prediction_moving_mnist_cpu",
}
# Papers whose own setting runs on a CPU in seconds: no separate CPU-scale version.
CPU_FEASIBLE = {"dirac_gan"}
# Tiny clips for the video recipes' training test.
TINY_VIDEO = ["data.batch_size=4", "data.length=8", "callbacks.samples.n=4"]


def test_every_paper_recipe_has_a_cpu_scale_version():
    assert len(PAPER) >= 14
    for name in PAPER:
        (Path(CONF_DIR) / "experiment" / f"{name}.yaml").read_text()
    assert {name.removesuffix("_cpu") for name in CPU} >= {
        n for n in PAPER
        if not n.endswith(("_lsun", "_cifar10")) and n not in VIDEO and n not in CPU_FEASIBLE
    }
    for name in ("dcgan_lsun", "lsgan_lsun", "wgan_lsun", "wgan_gp_cifar10", "sngan_cifar10"):
        model = name.rsplit("_", 1)[0]
        assert f"{model}_mnist_cpu" in CPU
    assert set(VIDEO) <= set(PAPER) and set(VIDEO.values()) <= set(CPU)


@pytest.mark.parametrize("name", PAPER)
def test_paper_recipe_composes_and_names_its_paper(name, tmp_path):
    text = (Path(CONF_DIR) / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert "arXiv:" in text or "experiment=" in text.split("defaults:")[0]
    extra = ["data.root=/data/images"] if "root: ???" in text else []
    cfg = compose_train([f"experiment={name}", *extra], tmp_path, small=False)
    assert cfg.name == name
    if name not in CPU_FEASIBLE:  # the paper's schedule (R3GAN's: 19,531 at batch 512)
        assert compose("train", [f"experiment={name}"]).iterations >= 19531


@pytest.mark.parametrize("name", [n for n in CPU if not n.startswith("pacgan")] + [
    "pacgan4_grid25_cpu"])
def test_cpu_recipe_trains(name, tmp_path):
    tiny = TINY_VIDEO if name in VIDEO.values() else []
    cfg = compose_train(
        [f"experiment={name}", "iterations=2", "callbacks.evaluation=null", *tiny], tmp_path
    )
    assert cfg.name == name
    metrics = train(cfg)
    assert metrics["iteration"] == 2
    losses = {k: v for k, v in metrics.items() if k.startswith("loss/")}
    assert "loss/g" in losses and any(k.startswith("loss/d") for k in losses)  # loss/d_<name>
    assert all(math.isfinite(v) for v in losses.values())


@pytest.mark.parametrize("name", sorted(VIDEO))
def test_video_paper_recipe_builds_its_model_for_its_clips(name, tmp_path):
    cfg = compose_train([f"experiment={name}", "data.root=/data/videos"], tmp_path, small=False)
    d = cfg.data
    assert d._target_ == "gan_lab.data.VideoFolderDataModule" and d.root == "/data/videos"
    spec = DataSpec(shape=(d.channels, d.frames, d.resolution, d.resolution))
    module = build_module(cfg, spec)
    assert module.spec.shape == (3, d.frames, d.resolution, d.resolution)


def test_pacgan_table_is_one_recipe_with_one_name_per_cell(tmp_path):
    """experiment=pacgan<m>_<data> is experiment=pacgan_toy with data=<data>
    model.packing=<m> (the multirun of the whole table), batch 100 packs of m."""
    from omegaconf import OmegaConf

    def resolved(overrides):  # before the next composition replaces Hydra's runtime config
        return OmegaConf.create(OmegaConf.to_container(
            compose_train(overrides, tmp_path, small=False), resolve=True))

    for m in (1, 2, 3, 4):
        for data in ("ring8", "grid25"):
            named = resolved([f"experiment=pacgan{m}_{data}"])
            swept = resolved(["experiment=pacgan_toy", f"data={data}", f"model.packing={m}"])
            assert named.name == f"pacgan{m}_{data}" and named.data.batch_size == 100 * m
            for part in ("model", "net", "data", "loss", "regularizer"):
                assert named[part] == swept[part], (m, data, part)


def test_r3gan_script_keeps_the_rows_it_does_not_rerun(tmp_path, monkeypatch):
    """``r3gan_stacked_mnist.py --rows``: the other rows' runs are read back from the results CSV
    with the types a fresh run has, so the rewritten table keeps them exactly."""
    import sys

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "experiments"))
    monkeypatch.delitem(sys.modules, "r3gan_stacked_mnist", raising=False)
    import launch
    import r3gan_stacked_mnist as script

    runs = [
        {"row": "gan_r1", "seed": s, "status": "finished", "iteration": 5000, "modes": 960.0 + s,
         "kl": 0.5 + s / 10, "wall_s": 300.5, "cpu_s": 290.0 + s, "exit_code": 0, "resumed": False}
        for s in (0, 1)
    ] + [{"row": "rpgan_r1", "seed": 0, "status": "diverged", "iteration": 1234, "modes": None,
          "kl": None, "wall_s": 10.0, "cpu_s": 9.0, "exit_code": 1, "resumed": False}]
    path = tmp_path / "results.csv"
    launch.write_rows(runs, path)
    back = script.read_results(path)
    assert [(r["seed"], r["iteration"], r["modes"], r["cpu_s"]) for r in back] == [
        (r["seed"], r["iteration"], r["modes"], r["cpu_s"]) for r in runs]
    assert script.table(back) == script.table(runs)
    assert "| GAN + R1 | Fail | 960.5 ± 0.5 |" in script.table(back)
    assert "1 of 1 (at iteration 1234)" in script.table(back)
    assert script.read_results(tmp_path / "missing.csv") == []


def test_sprite_floor_variants_replace_one_part_of_the_generator(monkeypatch):
    """``experiments/sprite_floor.py``: real digits instead of the drawn sprites, positions on
    the data's grid, and constant velocity at a given speed, each leaving the rest as it was."""
    import torch

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "experiments"))
    import sprite_floor as script

    from gan_lab.nets.video.sprites import SpriteVideoGenerator

    g = SpriteVideoGenerator((1, 8, 32, 32), width=8).eval()
    z = g.sample_latent(4).reshape(8, -1)
    z[:, g.content_dim : g.content_dim + 2] = 0  # every sprite starts mid-frame: no bounce
    moving = script.variant(g, script.ConstantVelocity, speed_px=0.1)
    steps = moving.paths(z).diff(dim=1)
    torch.testing.assert_close(steps.norm(dim=-1), torch.full((8, 7), 0.1))
    torch.testing.assert_close(steps, steps[:, :1].expand_as(steps))
    snapped = script.variant(g, script.Snapped).paths(z)
    assert torch.equal(snapped * 2, (snapped * 2).round()) and (g.paths(z) - snapped).max() < 0.5
    digits = script.variant(g, digits=True, supersample=2)
    clips = digits(g.sample_latent(3))
    assert digits.supersample == 2 and g.supersample == 1  # a copy: g is left as it was
    assert clips.shape == (3, 1, 8, 32, 32) and clips.min() >= -1 and clips.max() > 0.9
    assert torch.equal(digits.paths(z), g.paths(z))
