"""Start-up: the commands that do not train never import torch or Lightning, and a run imports
only what it uses (no W&B, TensorBoard or PyAV for a CSV-logged run on 2-D data)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

# Runs the real entry point (gan_lab.cli.main) and reports which heavy modules it imported.
PROBE = """
import sys
from gan_lab.cli import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
else:
    code = 0
heavy = ("torch", "lightning", "pytorch_lightning", "wandb", "tensorboard", "tensorboardX",
         "matplotlib", "av", "scipy")
print("IMPORTED=" + ",".join(m for m in heavy if m in sys.modules))
sys.exit(code)
"""


def imported(args: list[str], cwd, **env) -> tuple[set[str], str]:
    environ = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1", **env}
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=environ,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("IMPORTED=")]
    return set(filter(None, line.removeprefix("IMPORTED=").split(","))), result.stdout


@pytest.fixture
def runs(tmp_path):
    """Two run folders as ``gan-lab compare`` reads them (config.yaml, csv/metrics.csv)."""
    for seed in (0, 1):
        run = tmp_path / "runs" / f"s{seed}"
        (run / "csv").mkdir(parents=True)
        (run / "config.yaml").write_text(yaml.safe_dump({"seed": seed, "model": {"lr": 0.1}}))
        (run / "csv" / "metrics.csv").write_text(f"iteration,loss/d\n1,0.5\n2,{0.4 + seed}\n")
    return tmp_path / "runs"


@pytest.mark.parametrize(
    "args",
    [["--help"], ["train", "--help"], ["train", "--cfg", "job", "model=wgan_gp", "data=grid25"]],
    ids=["help", "train-help", "train-cfg"],
)
def test_help_and_composing_import_neither_torch_nor_lightning(args, tmp_path):
    modules, out = imported(args, tmp_path)
    assert modules.isdisjoint({"torch", "lightning", "pytorch_lightning", "wandb"}), modules
    assert ("_target_: gan_lab.modules.ImageGAN" in out) == ("--cfg" in args)


def test_compare_imports_neither_torch_nor_lightning(runs, tmp_path):
    modules, out = imported(["compare", str(runs)], tmp_path)
    assert modules.isdisjoint({"torch", "lightning", "pytorch_lightning", "wandb"}), modules
    assert "loss/d" in out


def test_a_csv_run_on_2d_data_imports_no_wandb_tensorboard_or_pyav(tmp_path):
    modules, _ = imported(
        ["train", "model=gan", "data=grid25", "logger=csv", "iterations=1",
         "callbacks.progress.mode=plain", f"paths.output_dir={tmp_path / 'run'}"],
        tmp_path,
    )
    assert {"torch", "lightning"} <= modules
    assert modules.isdisjoint({"wandb", "tensorboard", "tensorboardX", "av"}), modules
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
