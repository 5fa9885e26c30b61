"""Weights & Biases, offline: what a run logs, read back from its ``.wandb`` file."""

from __future__ import annotations

import json
import logging
import struct
import time

import pytest

from gan_lab.loggers import wandb_logger, wandb_mode
from gan_lab.train import train
from tests.helpers import compose_train
from tests.wandb_records import find_offline_runs, read_offline_run, read_records

WANDB = ["logger=wandb", "trainer.log_every_n_steps=1"]


@pytest.fixture(autouse=True)
def offline_wandb(tmp_path, monkeypatch):
    """W&B offline, its caches and settings inside the test folder."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb_home"))


def only_run(folder):
    runs = find_offline_runs(folder / "wandb")
    assert len(runs) == 1, runs
    return read_offline_run(runs[0])


def test_offline_run_logs_config_history_summary_and_media(tmp_path):
    cfg = compose_train(
        [*WANDB, "model=gan", "data=ring8", "seed=7", "iterations=4",
         "callbacks.samples.every=2", "metrics=[toy_modes]", "callbacks.evaluation.every=2"],
        tmp_path,
    )
    metrics = train(cfg)
    run = only_run(tmp_path)

    # identity: grouped by experiment, named after what differs, tagged, id recorded in config
    assert run.group == "gan_ring8" and run.job_type == "train"
    assert run.name.startswith("gan_ring8[") and "seed=7" in run.name
    assert "logger=" not in run.name and "paths.output_dir" not in run.name
    assert {"gan", "ring8"} <= set(run.tags)
    assert f"id: {run.run_id}" in (tmp_path / "config.yaml").read_text()
    assert run.exit_code == 0
    # the resolved config, flat
    assert run.config["model._target_"] == "gan_lab.modules.ImageGAN"
    assert run.config["seed"] == 7 and run.config["data.batch_size"] == cfg.data.batch_size
    # losses, learning rates and gradient norms at every iteration
    scalar_rows = [row for row in run.history if "loss/d" in row]
    assert [row["iteration"] for row in scalar_rows] == [1, 2, 3, 4]
    for key in ("loss/g", "lr/d", "lr/g", "grad_norm/d", "grad_norm/g", "d_real/d"):
        assert all(key in row for row in scalar_rows), key
    assert scalar_rows[0]["lr/d"] == pytest.approx(cfg.model.d_optimizer.lr)
    # sample grids: logged as image files that exist in the run folder
    images = [row for row in run.history if "samples" in row]
    assert [row["iteration"] for row in images] == [2, 4]
    assert all(row["samples"]["_type"] == "image-file" for row in images)
    for row in images:
        assert (run.path / "files" / row["samples"]["path"]).is_file()
    assert len(run.media) == 2 and all(p.suffix == ".png" for p in run.media)
    # evaluation metrics over time, and the final metrics as summary values
    evaluated = [row for row in run.history if "eval/modes" in row]
    assert [row["iteration"] for row in evaluated] == [2, 4]
    final_eval = (tmp_path / "eval" / "metrics.jsonl").read_text().splitlines()[-1]
    scores = json.loads(final_eval)["scores"]
    for name in ("modes", "high_quality"):
        assert run.summary[f"eval/{name}"] == pytest.approx(scores[name]["value"])
    assert run.summary["iteration"] == 4
    assert run.summary["loss/d"] == pytest.approx(metrics["loss/d"])
    assert run.summary["loss/d"] == pytest.approx(scalar_rows[-1]["loss/d"])


def test_resumed_training_continues_the_same_wandb_run(tmp_path):
    common = [*WANDB, "model=gan", "data=ring8"]
    train(compose_train([*common, "iterations=2"], tmp_path / "a"))
    ckpt = tmp_path / "a" / "checkpoints" / "last.ckpt"
    train(compose_train([*common, "iterations=4", f"resume={ckpt}"], tmp_path / "b"))

    first, second = only_run(tmp_path / "a"), only_run(tmp_path / "b")
    assert second.run_id == first.run_id
    assert [r["iteration"] for r in second.history if "loss/d" in r] == [3, 4]


def test_a_new_run_gets_a_new_wandb_run(tmp_path):
    train(compose_train([*WANDB, "model=gan", "data=ring8"], tmp_path / "a"))
    train(compose_train([*WANDB, "model=gan", "data=ring8"], tmp_path / "b"))
    assert only_run(tmp_path / "a").run_id != only_run(tmp_path / "b").run_id


def test_unreachable_wandb_server_falls_back_to_offline_quickly(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="gan_lab.loggers"):
        logger = wandb_logger(save_dir=str(tmp_path), name="run")
    assert time.monotonic() - start < 30
    assert logger._offline and logger._wandb_init["mode"] == "offline"
    assert "cannot be reached" in caplog.text and "wandb sync" in caplog.text


def test_wandb_mode_reads_dryrun_as_offline(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "dryrun")  # what Lightning's offline WandbLogger sets
    assert wandb_mode() == "offline"


def test_reader_reassembles_records_split_across_blocks(tmp_path):
    import wandb

    big = "x" * 70_000  # longer than two 32 KiB blocks: FIRST, MIDDLE and LAST chunks
    run = wandb.init(project="t", dir=str(tmp_path), mode="offline", config={"big": big})
    run.log({"a": 1.5})
    run.log({"a": 2.5, "b": "text"})
    run.summary["best"] = 9.0
    wandb.finish()
    wandb.teardown()  # waits until the run file is written

    read = read_offline_run(find_offline_runs(tmp_path)[0])
    assert read.config["big"] == big
    assert [(r["_step"], r["a"]) for r in read.history] == [(0, 1.5), (1, 2.5)]
    assert read.summary["a"] == 2.5 and read.summary["b"] == "text" and read.summary["best"] == 9


def test_reader_rejects_other_files(tmp_path):
    path = tmp_path / "run-x.wandb"
    path.write_bytes(b"not a wandb file")
    with pytest.raises(ValueError, match="not a W&B run file"):
        read_records(path)
    path.write_bytes(struct.pack("<4sHB", b":W&B", 0xBEE1, 0))
    assert read_records(path) == []
