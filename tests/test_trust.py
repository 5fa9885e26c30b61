"""Runs you can trust, tried on real ``gan-lab`` processes: checkpoints that cannot run code,
bit-exact resume after SIGKILL, signals that save and exit non-zero, run folders that never
collide, resume checks, and data-parallel ranks that hold the same model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_lab.checkpoints import read_checkpoint

ROOT = Path(__file__).resolve().parents[1]
QUIET = ["logger=csv", "callbacks.progress=null", "+trainer.enable_progress_bar=false",
         "torch_threads=1"]
# n_critic 5, an EMA and a learning-rate schedule: everything a resume must restore
IMAGE = ["model=wgan_gp", "data=grid25", "net.generator.hidden_dim=16",
         "net.discriminator.hidden_dim=16", "+model.ema_decay=0.9",
         "+model.g_scheduler={_target_: torch.optim.lr_scheduler.ExponentialLR, _partial_: true,"
         " gamma: 0.97}", "callbacks.samples.every=7"]
# two discriminators on random frames, instance noise, generated clips
VIDEO = ["model=mocogan_micro", "data=moving_mnist", "data.canvas_size=32", "data.batch_size=4",
         "callbacks.samples.n=4", "callbacks.samples.every=4"]


def gan_lab(*args, cwd=None, check=True, **popen) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "gan_lab.cli", *args], cwd=cwd or ROOT,
                          env=env, capture_output=True, text=True, **popen)
    if check:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def signal_at(iteration: int, signum: int) -> str:
    return (f"+callbacks.zz_signal={{_target_: tests.helpers.SignalAt, iteration: {iteration}, "
            f"signum: {int(signum)}}}")


def final_state(run: Path) -> dict:
    checkpoint = read_checkpoint(run / "checkpoints" / "last.ckpt")
    return {"model": checkpoint["state_dict"], "optimizers": checkpoint["optimizer_states"],
            "iteration": checkpoint["gan_lab"]["iteration"],
            "d_steps": checkpoint["gan_lab"]["d_steps"]}


def assert_identical(a, b, where="") -> None:
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_identical(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a} != {b}"


# --------------------------------------------------------------------------- safe checkpoints
class Payload:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("small") / "run"
    gan_lab("train", "model=gan", "data=grid25", "iterations=2", *QUIET, f"hydra.run.dir={run}")
    return run


def test_a_checkpoint_cannot_run_code_on_sample_eval_or_resume(small_run, tmp_path):
    checkpoint = torch.load(small_run / "checkpoints" / "last.ckpt", weights_only=True)
    marker = tmp_path / "pwned"
    checkpoint["gan_lab"]["payload"] = Payload(marker)
    crafted = tmp_path / "crafted.ckpt"
    torch.save(checkpoint, crafted)
    for args in (["sample", f"ckpt={crafted}", f"out={tmp_path / 's.npy'}"],
                 ["eval", f"ckpt={crafted}", "metrics=[toy_modes]"],
                 ["train", "model=gan", "data=grid25", "iterations=3", *QUIET,
                  f"resume={crafted}", f"hydra.run.dir={tmp_path / 'resumed'}"]):
        proc = gan_lab(*args, check=False)
        assert proc.returncode != 0, args[0]
        assert "trust_checkpoint=true" in proc.stderr + proc.stdout, args[0]
        assert not marker.exists(), f"{args[0]} ran the checkpoint's code"


def test_trust_checkpoint_reads_a_file_the_user_made(small_run, tmp_path):
    checkpoint = torch.load(small_run / "checkpoints" / "last.ckpt", weights_only=True)
    checkpoint["gan_lab"]["note"] = Path("made/by/me")  # needs unpickling, runs nothing
    mine = tmp_path / "mine.ckpt"
    torch.save(checkpoint, mine)
    assert gan_lab("sample", f"ckpt={mine}", f"out={tmp_path / 'a.npy'}", check=False).returncode
    gan_lab("sample", f"ckpt={mine}", f"out={tmp_path / 'a.npy'}", "trust_checkpoint=true")
    assert (tmp_path / "a.npy").is_file()


# ------------------------------------------------------------------------- bit-exact resume
@pytest.mark.parametrize("preset, iterations, kill_at", [(IMAGE, 12, 7), (VIDEO, 6, 3)],
                         ids=["image-wgan-gp", "video-mocogan"])
def test_sigkill_then_resume_is_bit_identical_to_an_uninterrupted_run(preset, iterations,
                                                                       kill_at, tmp_path):
    common = [*preset, *QUIET, f"iterations={iterations}", "callbacks.checkpoint.every=1"]
    gan_lab("train", *common, f"hydra.run.dir={tmp_path / 'straight'}")
    killed = gan_lab("train", *common, signal_at(kill_at, signal.SIGKILL),
                     f"hydra.run.dir={tmp_path / 'killed'}", check=False)
    assert killed.returncode == -signal.SIGKILL
    assert final_state(tmp_path / "killed")["iteration"] == kill_at
    gan_lab("train", *common, f"resume={tmp_path / 'killed' / 'checkpoints' / 'last.ckpt'}",
            f"hydra.run.dir={tmp_path / 'resumed'}")
    straight, resumed = final_state(tmp_path / "straight"), final_state(tmp_path / "resumed")
    assert resumed["iteration"] == iterations
    assert any(k.startswith("generator_ema.") for k in straight["model"])
    assert_identical(straight, resumed, "final state")


# ---------------------------------------------------------------------------------- signals
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_a_signal_saves_the_current_iteration_and_exits_non_zero(signum, code, tmp_path):
    common = [*IMAGE, *QUIET, "iterations=10", "callbacks.checkpoint.every=1000"]
    proc = gan_lab("train", *common, signal_at(4, signum),
                   f"hydra.run.dir={tmp_path / 'stopped'}", check=False)
    assert proc.returncode == code, proc.stderr[-2000:]
    assert "resume=" in proc.stdout + proc.stderr
    stopped = final_state(tmp_path / "stopped")
    assert stopped["iteration"] == 4  # not a periodic checkpoint (every 1000): this one
    assert not list((tmp_path / "stopped" / "samples").glob("iter_000004.*"))  # no end work
    gan_lab("train", *common, f"resume={tmp_path / 'stopped' / 'checkpoints' / 'last.ckpt'}",
            f"hydra.run.dir={tmp_path / 'resumed'}")
    gan_lab("train", *common, f"hydra.run.dir={tmp_path / 'straight'}")
    assert_identical(final_state(tmp_path / "straight"), final_state(tmp_path / "resumed"))


def test_sigterm_from_outside_during_a_long_run(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gan_lab.cli", "train", "model=gan", "data=grid25",
         "iterations=1000000", "logger=csv", "callbacks.progress.mode=plain",
         "callbacks.progress.every=50", f"hydra.run.dir={run}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:  # wait until training runs
        if line.startswith("iteration 50/"):
            break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 143
    stopped = read_checkpoint(run / "checkpoints" / "last.ckpt")["gan_lab"]
    assert stopped["iteration"] >= 50


# -------------------------------------------------------------------------- run folders
def test_two_runs_started_together_get_their_own_folders(tmp_path):
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "gan_lab.cli", "train", "model=gan",
                               "data=grid25", f"seed={seed}", "iterations=2", *QUIET],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for seed in (1, 2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    folders = sorted((tmp_path / "outputs" / "gan_grid25").iterdir())
    assert len(folders) == 2
    seeds = sorted(read_checkpoint(f / "checkpoints" / "last.ckpt")["gan_lab"]["config"]["seed"]
                   for f in folders)
    assert seeds == [1, 2]


def test_a_folder_holding_another_run_is_refused(small_run):
    proc = gan_lab("train", "model=gan", "data=grid25", "iterations=2", *QUIET,
                   f"hydra.run.dir={small_run}", check=False)
    assert proc.returncode != 0 and "already holds a run" in proc.stderr


# ---------------------------------------------------------------------------- resume checks
def test_resume_with_another_experiment_lists_the_differing_keys(small_run, tmp_path):
    ckpt = small_run / "checkpoints" / "last.ckpt"
    before = ckpt.stat().st_mtime_ns
    proc = gan_lab("train", "model=lsgan", "data=grid25", "iterations=3", *QUIET,
                   f"resume={ckpt}", f"hydra.run.dir={tmp_path / 'other'}", check=False)
    assert proc.returncode != 0
    assert "loss._target_" in proc.stderr and "resume_allow_changes=true" in proc.stderr
    assert not (tmp_path / "other" / "checkpoints").exists() and ckpt.stat().st_mtime_ns == before
    # allowed on purpose: the new checkpoint records the new config
    gan_lab("train", "model=gan", "data=grid25", "iterations=3", *QUIET, "loss=least_squares",
            f"resume={ckpt}", "resume_allow_changes=true", f"hydra.run.dir={tmp_path / 'tuned'}")
    stored = final_state(tmp_path / "tuned")
    config = read_checkpoint(tmp_path / "tuned" / "checkpoints" / "last.ckpt")["gan_lab"]["config"]
    assert stored["iteration"] == 3 and config["loss"]["_target_"].endswith("LeastSquaresLoss")


# ----------------------------------------------------------------------------------- DDP
def test_two_cpu_processes_hold_the_same_model_and_report_the_real_iteration(tmp_path):
    from gan_lab.train import train
    from tests.helpers import compose_train

    dump = tmp_path / "ranks"
    cfg = compose_train(["model=dcgan", "data=mnist", "data.batch_size=8", "iterations=3",
                         "trainer=ddp_sim", "torch_threads=1",
                         f"+callbacks.zz_dump={{_target_: tests.helpers.DumpState, "
                         f"dirpath: {dump}}}"], tmp_path / "run")
    metrics = train(cfg)
    assert metrics["iteration"] == 3
    ranks = [torch.load(dump / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert any("running_mean" in k for k in ranks[0])  # D and G have BatchNorm
    assert_identical(ranks[0], ranks[1], "rank 0 vs rank 1")
    stored = read_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt")["gan_lab"]
    assert stored["iteration"] == 3 and len(stored["rng"]) == 2
