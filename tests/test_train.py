"""The training loop, the presets and the command line, end to end on tiny runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hydra.errors import ConfigCompositionException
from omegaconf import open_dict

from gan_lab.build import build_module, load_checkpoint
from gan_lab.cli import main as cli_main
from gan_lab.data import Grid25DataModule
from gan_lab.modules import DivergenceError
from gan_lab.train import torch_threads, train
from tests.helpers import compose_train

IMAGE_PRESETS = ["gan", "dcgan", "lsgan", "wgan", "wgan_gp", "sngan"]
VECTOR_PRESETS = ["gan", "lsgan", "wgan", "wgan_gp", "sngan"]

# (preset, data) pairs that make sense: DCGAN is an image architecture; cGAN needs labels
# (the toy mixtures label each point with its mode).
COMBOS = (
    [(m, "mnist") for m in [*IMAGE_PRESETS, "cgan"]]
    + [(m, "image_folder") for m in [*IMAGE_PRESETS, "cgan"]]
    + [(m, d) for m in [*VECTOR_PRESETS, "cgan"] for d in ("ring8", "grid25")]
)


@pytest.fixture(scope="module")
def image_root(tmp_path_factory):
    """A tiny two-class folder of PNGs."""
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (root / cls).mkdir()
        for i in range(8):
            pixels = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i}.png")
    return root


@pytest.mark.parametrize(("preset", "data"), COMBOS)
def test_every_preset_trains_on_compatible_data(preset, data, tmp_path, image_root):
    extra = [f"data.root={image_root}", "data.resolution=32"] if data == "image_folder" else []
    cfg = compose_train(
        [f"model={preset}", f"data={data}", "data.batch_size=8", *extra], tmp_path
    )
    metrics = train(cfg)

    assert metrics["iteration"] == 2
    assert math.isfinite(metrics["loss/d"]) and math.isfinite(metrics["loss/g"])
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "samples" / "iter_000002.png").is_file()
    assert "_target_: gan_lab.modules.ImageGAN" in (tmp_path / "config.yaml").read_text()


def test_dcgan_refuses_vector_data(tmp_path):
    cfg = compose_train(["model=dcgan", "data=grid25"], tmp_path, small=False)
    with pytest.raises(ValueError, match=r"\(2,\)"):
        build_module(cfg, Grid25DataModule().spec)


def test_wgan_makes_n_critic_d_steps_per_g_step_each_on_a_fresh_batch(tmp_path, monkeypatch):
    cfg = compose_train(["model=wgan", "data=grid25", "iterations=3"], tmp_path)
    seen = []
    from gan_lab.modules.image import ImageGAN

    original = ImageGAN.discriminator_loss

    def recording(self, name, real, fake, y):
        seen.append(real.clone())
        return original(self, name, real, fake, y)

    monkeypatch.setattr(ImageGAN, "discriminator_loss", recording)
    train(cfg)
    module = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    g_state, d_state = (s["state"] for s in ckpt["optimizer_states"])
    g_steps = {int(v["step"]) for v in g_state.values()}
    d_steps = {int(v["step"]) for v in d_state.values()}

    assert module.iteration == 3 and g_steps == {3}
    assert d_steps == {15} and module.d_steps == 15
    assert module.images_seen == 15 * cfg.data.batch_size
    assert len(seen) == 15
    for a, b in zip(seen, seen[1:], strict=False):
        assert not torch.equal(a, b), "two D updates saw the same real batch"


def test_weight_clipping_bounds_the_critic(tmp_path):
    cfg = compose_train(["model=wgan", "data=ring8"], tmp_path)
    train(cfg)
    module = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert max(p.abs().max().item() for p in module.discriminators["d"].parameters()) <= 0.01


def test_schedulers_step_once_per_iteration(tmp_path):
    cfg = compose_train(
        ["model=gan", "data=ring8", "iterations=4", "model.d_scheduler.gamma=0.5",
         "model.g_scheduler.gamma=0.5"],
        tmp_path,
    )
    train(cfg)
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    lrs = [s["_last_lr"][0] for s in ckpt["lr_schedulers"]]
    assert lrs == pytest.approx([0.1 * 0.5**4] * 2)


def test_ema_follows_the_generator_after_ema_start(tmp_path):
    cfg = compose_train(
        ["model=gan", "data=ring8", "iterations=3", "+model.ema_decay=0.5", "+model.ema_start=2"],
        tmp_path,
    )
    train(cfg)
    module = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    g = torch.nn.utils.parameters_to_vector(module.generator.parameters())
    ema = torch.nn.utils.parameters_to_vector(module.generator_ema.parameters())
    assert not torch.allclose(g, ema)  # averaged after iteration 2, not a copy
    assert torch.isfinite(ema).all()


def test_sample_command_writes_npy_in_data_space_and_png(tmp_path):
    cfg = compose_train(["model=wgan_gp", "data=grid25"], tmp_path / "run")
    train(cfg)
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    out = tmp_path / "s.npy"
    cli_main(["sample", f"ckpt={ckpt}", "n=300", f"out={out}", "seed=3"])
    cli_main(["sample", f"ckpt={ckpt}", "n=300", f"out={tmp_path / 'again.npy'}", "seed=3"])
    cli_main(["sample", f"ckpt={ckpt}", "n=16", f"out={tmp_path / 'grid.png'}"])

    samples = np.load(out)
    assert samples.shape == (300, 2)
    np.testing.assert_array_equal(samples, np.load(tmp_path / "again.npy"))
    module = load_checkpoint(ckpt)
    model_space = module.sample(300, seed=3).numpy()
    np.testing.assert_allclose(samples, model_space * 5.0, rtol=1e-6)
    assert (tmp_path / "grid.png").stat().st_size > 0


def test_sample_command_image_shapes(tmp_path):
    cfg = compose_train(["model=dcgan", "data=mnist", "data.batch_size=8"], tmp_path / "run")
    train(cfg)
    out, ckpt = tmp_path / "x.npy", tmp_path / "run" / "checkpoints" / "last.ckpt"
    cli_main(["sample", f"ckpt={ckpt}", "n=5", f"out={out}"])
    x = np.load(out)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1


def test_misspelt_key_fails_with_its_name(tmp_path):
    with pytest.raises(ConfigCompositionException, match="n_critc"):
        compose_train(["model.n_critc=5"], tmp_path)
    cfg = compose_train(["data=ring8", "model=gan"], tmp_path)
    with open_dict(cfg):
        cfg.net.discriminator.hiden_dim = 3
    with pytest.raises(Exception, match="hiden_dim"):
        train(cfg)


def poison_fifth_generator_loss(monkeypatch) -> None:
    """The 5th generator loss (iteration 5 with n_critic 1) becomes NaN."""
    from gan_lab.losses import NonSaturatingLoss

    original = NonSaturatingLoss.generator
    calls = {"n": 0}

    def poisoned(self, fake_logits, real_logits=None):
        calls["n"] += 1
        loss = original(self, fake_logits, real_logits)
        return loss * float("nan") if calls["n"] == 5 else loss

    monkeypatch.setattr(NonSaturatingLoss, "generator", poisoned)


# Losses are checked on logged steps and before every checkpoint: with logging every D step,
# and with logging so rare that only the checkpoint at iteration 6 finds the NaN of iteration 5.
@pytest.mark.parametrize("log_every", [1, 1000])
def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch, log_every):
    cfg = compose_train(
        ["model=gan", "data=ring8", "iterations=20", "callbacks.checkpoint.every=2",
         f"trainer.log_every_n_steps={log_every}"], tmp_path
    )
    poison_fifth_generator_loss(monkeypatch)
    with pytest.raises(DivergenceError,
                       match=r"non-finite loss at iteration 5 \(D step 5\): .*last good"):
        train(cfg)
    module = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert module.iteration == 4
    params = torch.nn.utils.parameters_to_vector(module.parameters())
    assert torch.isfinite(params).all()


def test_nan_loss_at_the_last_step_of_a_run_without_callbacks_or_logging_fails(
        tmp_path, monkeypatch):
    cfg = compose_train(
        ["model=gan", "data=ring8", "iterations=5", "callbacks.checkpoint=null",
         "callbacks.samples=null", "callbacks.evaluation=null",
         "trainer.log_every_n_steps=1000"], tmp_path
    )
    poison_fifth_generator_loss(monkeypatch)
    with pytest.raises(DivergenceError, match=r"non-finite loss at iteration 5 \(D step 5\)"):
        train(cfg)
    assert not (tmp_path / "checkpoints" / "last.ckpt").exists()


def test_resume_continues_the_iteration_count(tmp_path):
    cfg = compose_train(["model=dcgan", "data=mnist", "data.batch_size=8"], tmp_path / "a")
    train(cfg)
    ckpt = tmp_path / "a" / "checkpoints" / "last.ckpt"
    cfg = compose_train(
        ["model=dcgan", "data=mnist", "data.batch_size=8", "iterations=4", f"resume={ckpt}"],
        tmp_path / "b",
    )
    metrics = train(cfg)
    assert metrics["iteration"] == 4
    assert load_checkpoint(tmp_path / "b" / "checkpoints" / "last.ckpt").images_seen == 4 * 8


def test_logs_losses_d_outputs_grad_norms_and_learning_rates(tmp_path):
    cfg = compose_train(["model=wgan_gp", "data=ring8", "iterations=3"], tmp_path)
    train(cfg)
    header = (tmp_path / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    for column in ("loss/d", "loss/g", "d_real/d", "d_fake/d", "penalty/d", "grad_norm/d",
                   "grad_norm/g", "lr/d", "lr/g", "iteration", "images_seen"):
        assert column in header


def test_gradient_clipping_bounds_the_update(tmp_path, monkeypatch):
    cfg = compose_train(
        ["model=gan", "data=ring8", "iterations=1", "+model.grad_clip_norm=1e-3"], tmp_path
    )
    norms = []
    original = torch.optim.SGD.step

    def recording(self, *args, **kwargs):
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        norms.append(float(torch.nn.utils.get_total_norm(grads)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", recording)
    train(cfg)
    assert len(norms) == 2 and max(norms) <= 1e-3 * 1.0001


def test_two_process_ddp_counts_images_over_processes(tmp_path):
    """The CPU stand-in for multi-GPU: alternating updates under DDP (gloo, 2 processes)."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "gan_lab.cli", "train", "model=wgan_gp", "data=ring8",
           "iterations=3", "logger=csv", "trainer=ddp_sim", "callbacks.progress=null",
           "+trainer.enable_progress_bar=false", f"paths.output_dir={tmp_path}"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    module = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert (module.iteration, module.d_steps) == (3, 15)
    assert module.images_seen == 15 * 100 * 2


def test_torch_threads_are_set_for_the_block_and_restored():
    before = torch.get_num_threads()
    n = 2 if before == 1 else 1
    with torch_threads(n):
        assert torch.get_num_threads() == n
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="torch_threads must be >= 1"):
        with torch_threads(0):
            pass
