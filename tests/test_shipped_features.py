"""The shipped feature networks: their files and provenance, the accuracies they record, and
first use from an empty cache in a fresh ``gan-lab`` process, as a new user meets them."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import pytest
import torch

from gan_lab.data import MNISTDataModule
from gan_lab.metrics import FID, EvalContext
from gan_lab.metrics.features import mmnistnet, mnistnet, state_sha256
from gan_lab.metrics.features.base import file_sha256
from gan_lab.metrics.features.mnist import evaluate_accuracy
from gan_lab.metrics.features.moving_mnist import evaluate_mmnistnet
from gan_lab.metrics.features.shipped import WEIGHTS_DIR, shipped_path, shipped_record
from tests.helpers import FixedSamples

# The hashes the protocol cards carry (weights/<name>.json); a change here is a new protocol.
SHIPPED_WEIGHTS = {
    "mnistnet": "d1164bf10dfb95102ce6b120d7e0afb19d9cd6e18420ce837b2ef41a930d4df5",
    "mmnistnet": "296adf20788a8b51b613c23773de555e4de1e5e1591ea19c6324afb474126f6c",
}
QUIET = ["logger=csv", "callbacks.progress=null", "+trainer.enable_progress_bar=false"]


@pytest.mark.parametrize("name", sorted(SHIPPED_WEIGHTS))
def test_shipped_file_matches_its_record(name):
    record = shipped_record(name)
    path = WEIGHTS_DIR / record["file"]
    assert file_sha256(path) == record["file_sha256"]
    assert path.stat().st_size == record["file_bytes"] < 3_000_000
    assert record["weights_sha256"] == SHIPPED_WEIGHTS[name]
    net = {"mnistnet": mnistnet, "mmnistnet": mmnistnet}[name]()
    assert net.sha256 == state_sha256(net.classifier.state_dict()) == SHIPPED_WEIGHTS[name]
    assert net.card()["weights_sha256"] == SHIPPED_WEIGHTS[name]
    assert record["trained_with"]["torch"] and record["recipe"] == net.meta["recipe"]


def test_mnistnet_reproduces_its_recorded_held_out_accuracy():
    recorded = shipped_record("mnistnet")["held_out"]["val_accuracy"]
    assert evaluate_accuracy(mnistnet(), "val") == pytest.approx(recorded, abs=1.5 / 997)
    assert recorded > 0.98


def test_mmnistnet_reproduces_its_recorded_held_out_accuracies():
    record = shipped_record("mmnistnet")
    measured = evaluate_mmnistnet(mmnistnet(), clips=record["recipe"]["val_clips"])
    for key, value in record["held_out"].items():
        assert measured[key] == pytest.approx(value, abs=2e-3), key
    assert record["held_out"]["val_digit_accuracy"] > 0.9


def test_a_changed_shipped_file_is_refused(tmp_path, monkeypatch):
    import gan_lab.metrics.features.shipped as shipped

    for name in ("mnistnet.json", "mnistnet.pt"):
        (tmp_path / name).write_bytes((WEIGHTS_DIR / name).read_bytes())
    (tmp_path / "mnistnet.pt").write_bytes(b"not the weights")
    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ValueError, match="reinstall gan_lab"):
        shipped_path("mnistnet")


def gan_lab(*args, cache, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAN_LAB_CACHE": str(cache), "WANDB_MODE": "offline",
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "gan_lab.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_first_use_from_an_empty_cache_train_then_eval(tmp_path):
    """A fresh process with an empty cache: training with metrics=[fid_mnistnet], then
    ``gan-lab eval`` with every MNIST metric; the cards name the shipped weights and a second
    evaluation gives the same numbers."""
    cache = tmp_path / "empty_cache"
    run = tmp_path / "run"
    small = ["metrics.fid_mnistnet.n_fake=256", "metrics.fid_mnistnet.n_real=256"]
    gan_lab("train", "model=dcgan", "data=mnist", "data.batch_size=8", "iterations=3",
            "net.generator.width=8", "net.discriminator.width=8", "metrics=[fid_mnistnet]",
            *small, *QUIET, f"hydra.run.dir={run}", cache=cache, cwd=tmp_path)
    record = json.loads((run / "eval" / "metrics.jsonl").read_text().splitlines()[-1])
    card = record["scores"]["fid_mnistnet"]
    assert card["weights_sha256"] == SHIPPED_WEIGHTS["mnistnet"] and card["value"] > 0
    assert not (cache / "features").exists()  # nothing trained, nothing cached but statistics

    ckpt = run / "checkpoints" / "last.ckpt"
    args = ["eval", f"ckpt={ckpt}", "metrics=[fid_mnistnet,kid_mnistnet,is_mnistnet]", *small,
            "metrics.kid_mnistnet.n_fake=256", "metrics.kid_mnistnet.n_real=256",
            "metrics.kid_mnistnet.subset_size=100", "metrics.is_mnistnet.n_fake=256"]
    out = gan_lab(*args, f"out={tmp_path / 'a.json'}", cache=tmp_path / "other_cache",
                  cwd=tmp_path).stdout
    scores = json.loads((tmp_path / "a.json").read_text())["scores"]
    assert set(scores) == {"fid_mnistnet", "kid_mnistnet", "kid_mnistnet_std", "is_mnistnet",
                           "is_mnistnet_std"}
    assert all(s["weights_sha256"] == SHIPPED_WEIGHTS["mnistnet"] for s in scores.values())
    assert 1 <= scores["is_mnistnet"]["value"] <= 10 and "fid_mnistnet" in out
    # the evaluation during training used the same protocol: the same value
    assert scores["fid_mnistnet"]["value"] == pytest.approx(card["value"], rel=1e-9)
    gan_lab(*args, f"out={tmp_path / 'b.json'}", cache=cache, cwd=tmp_path)
    again = json.loads((tmp_path / "b.json").read_text())["scores"]
    assert {k: v["value"] for k, v in again.items()} == {k: v["value"] for k, v in
                                                          scores.items()}


def test_first_use_from_an_empty_cache_video_training_with_fvd_mmnistnet(tmp_path):
    run = tmp_path / "run"
    gan_lab("train", "model=mocogan_micro", "data=moving_mnist", "data.resolution=32",
            "data.batch_size=4", "iterations=2", "metrics=[fvd_mmnistnet]",
            "metrics.fvd_mmnistnet.n_fake=64", "metrics.fvd_mmnistnet.n_real=64",
            "callbacks.samples.n=4", *QUIET, f"hydra.run.dir={run}",
            cache=tmp_path / "empty_cache", cwd=tmp_path)
    record = json.loads((run / "eval" / "metrics.jsonl").read_text().splitlines()[-1])
    card = record["scores"]["fvd_mmnistnet_16f"]
    assert card["weights_sha256"] == SHIPPED_WEIGHTS["mmnistnet"]
    assert (card["n_real"], card["n_fake"], card["frames"]) == (64, 64, 16)
    assert card["value"] > 0 and record["iteration"] == 2


def test_a_retrained_network_carries_its_own_hash(tmp_path):
    out = tmp_path / "mnistnet_1epoch.pt"
    printed = gan_lab("train-features", "mnistnet", "features.epochs=1", f"out={out}",
                      cache=tmp_path / "cache", cwd=tmp_path).stdout
    own = mnistnet(path=str(out)).sha256
    assert own != SHIPPED_WEIGHTS["mnistnet"] and own in printed
    fake = torch.rand(64, 1, 28, 28) * 2 - 1
    ctx = EvalContext(module=FixedSamples(fake), datamodule=MNISTDataModule(batch_size=64),
                      data_config={"split": "train"}, cache_dir=str(tmp_path / "cache"),
                      batch_size=64)
    (score,) = FID(functools.partial(mnistnet, path=str(out)), n_fake=64, n_real=64)(ctx)
    assert score.card["weights_sha256"] == own
