"""Sweeps from the command line: a Hydra multirun and an Optuna study, end to end through the
real entry point; the SLURM launcher preset and the W&B sweep definition compose."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from gan_lab.train import CONF_DIR
from tests.helpers import compose_train
from tests.wandb_records import find_offline_runs, read_offline_run

ROOT = Path(__file__).resolve().parent.parent
QUIET = ["callbacks.progress=null", "+trainer.enable_progress_bar=false"]


def gan_lab_train(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
           "WANDB_CACHE_DIR": str(tmp_path / "wandb_home"),
           "WANDB_CONFIG_DIR": str(tmp_path / "wandb_home"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "gan_lab.cli", "train", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_multirun_gives_each_job_its_folder_and_its_own_wandb_run(tmp_path):
    sweep = tmp_path / "sweep"
    gan_lab_train(
        ["-m", "model=gan,lsgan", "data=ring8", "seed=3", "iterations=2", "logger=wandb",
         "trainer.log_every_n_steps=1", *QUIET, f"hydra.sweep.dir={sweep}"],
        tmp_path,
    )
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
    assert [j.name for j in jobs] == ["0", "1"]
    runs = []
    for job in jobs:
        assert (job / "checkpoints" / "last.ckpt").is_file()
        config = yaml.safe_load((job / "config.yaml").read_text())
        (run_dir,) = find_offline_runs(job / "wandb")
        run = read_offline_run(run_dir)
        assert run.exit_code == 0 and run.group == config["name"]
        assert f"seed={config['seed']}" in run.name
        assert run.config["seed"] == config["seed"]
        runs.append(run)
    assert len({r.run_id for r in runs}) == 2
    assert sorted(r.name for r in runs) == [
        "gan_ring8[data=ring8,iterations=2,model=gan,seed=3]",
        "lsgan_ring8[data=ring8,iterations=2,model=lsgan,seed=3]",
    ]


def test_optuna_study_maximizes_the_evaluation_metric_train_returns(tmp_path):
    sweep = tmp_path / "study"
    gan_lab_train(
        ["hparams_search=toy_modes_optuna", "model=gan", "data=grid25", "iterations=10",
         "logger=csv", "hydra.sweeper.n_trials=2", "hydra.sweeper.sampler.n_startup_trials=2",
         *QUIET, f"hydra.sweep.dir={sweep}"],
        tmp_path,
    )
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert set(results["best_params"]) == {"model.g_optimizer.lr", "model.d_optimizer.lr"}
    trials = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
    assert len(trials) == 2
    modes, lrs = [], []
    for trial in trials:
        final = json.loads((trial / "eval" / "metrics.jsonl").read_text().splitlines()[-1])
        assert final["iteration"] == 10
        modes.append(final["scores"]["modes"]["value"])
        config = yaml.safe_load((trial / "config.yaml").read_text())
        lrs.append(config["model"]["g_optimizer"]["lr"])
    assert results["best_value"] == max(modes)  # eval/modes, maximized
    assert len(set(lrs)) == 2 and all(5e-5 <= lr <= 2e-3 for lr in lrs)
    assert results["best_params"]["model.g_optimizer.lr"] == lrs[modes.index(max(modes))]


def test_slurm_launcher_preset_composes():
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["launcher=slurm", "trainer=gpu"],
                      return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.gpus_per_node == 1 and launcher.timeout_min == 240
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"


def test_wandb_sweep_parameters_are_valid_overrides(tmp_path):
    spec = yaml.safe_load((ROOT / "experiments" / "wandb_sweep.yaml").read_text())
    command = spec["command"]
    assert command[:3] == ["${env}", "gan-lab", "train"]
    assert command[-1] == "${args_no_hyphens}"
    fixed = [arg for arg in command[3:-1] if "=" in arg]
    # every sampled parameter is a key that `gan-lab train` accepts, with the fixed overrides
    sampled = []
    for key, param in spec["parameters"].items():
        value = param["values"][0] if "values" in param else param["min"]
        sampled.append(f"{key}={value}")
    cfg = compose_train([*fixed, *sampled], tmp_path, small=False)
    assert cfg.model.g_optimizer.lr == spec["parameters"]["model.g_optimizer.lr"]["min"]
    # the objective is a metric the sweep's runs report
    name = spec["metric"]["name"].removeprefix("eval/")
    assert name in {"modes", "high_quality", "reverse_kl"} and "toy_modes" in cfg.metrics
