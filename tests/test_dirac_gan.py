"""The Dirac-GAN: data, nets, the parameter trace, and convergence of R1 against the circling
of unregularized training, through ``gan-lab train`` itself."""

from __future__ import annotations

import csv
import math
import subprocess
import sys

import pytest
import torch

from gan_lab.data import DiracDataModule
from gan_lab.nets import DiracDiscriminator, DiracGenerator


def test_data_and_nets():
    dm = DiracDataModule(batch_size=5)
    x, y = next(iter(dm.train_dataloader()))
    assert dm.spec.shape == (1,) and torch.equal(x, torch.zeros(5, 1)) and (y == 0).all()
    g, d = DiracGenerator((1,), theta=0.5), DiracDiscriminator((1,), psi=-2.0)
    out = g(g.sample_latent(3))
    assert torch.equal(out, torch.full((3, 1), 0.5))
    torch.testing.assert_close(d(out), torch.full((3,), -1.0))
    noisy = DiracDiscriminator((1,), psi=1.0, instance_noise=0.7)
    assert noisy(torch.zeros(4000, 1)).std().item() == pytest.approx(0.7, rel=0.05)
    assert (noisy.eval()(torch.zeros(3, 1)) == 0).all()
    with pytest.raises(ValueError, match="data=dirac"):
        DiracGenerator((2,))


def run_trace(tmp_path, *overrides) -> list[tuple[float, float]]:
    out = tmp_path / "run"
    subprocess.run(
        [sys.executable, "-m", "gan_lab.cli", "train", "experiment=dirac_gan", "logger=csv",
         "callbacks.progress=null", "+trainer.enable_progress_bar=false", "iterations=200",
         f"hydra.run.dir={out}", *overrides], check=True, capture_output=True)
    with open(out / "trace.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["iteration"]) for r in rows] == list(range(201))
    return [(float(r["generator.theta"]), float(r["discriminators.d.psi"])) for r in rows]


def test_r1_converges_and_the_minimax_gan_circles(tmp_path):
    """Mescheder et al. 2018: zero-centred penalties converge on the Dirac-GAN; unregularized
    alternating gradient descent keeps circling at the distance it started from."""
    r1 = run_trace(tmp_path / "r1", "regularizer=r1", "regularizer.gamma=1.0")
    assert r1[0] == (1.0, 1.0) and math.hypot(*r1[-1]) < 1e-3
    gan = run_trace(tmp_path / "gan", "loss=minimax")
    distances = [math.hypot(*p) for p in gan]
    assert min(distances[100:]) > 0.9  # no approach to (0, 0)
    angles = [math.atan2(psi, theta) for theta, psi in gan]
    assert max(angles) - min(angles) > math.pi  # it goes round
