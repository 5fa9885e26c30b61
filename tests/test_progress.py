"""Progress: Rich's bar on a terminal, plain lines on gan_lab's iteration counter elsewhere."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest
from lightning.pytorch.callbacks import RichProgressBar

from gan_lab.callbacks import PlainProgressBar, progress_bar

LINE = re.compile(
    r"^iteration (\d+)/(\d+) \(\d+%\) \| [\d.e+-]+ it/s \| elapsed \d+:\d\d:\d\d \| "
    r"ETA \d+:\d\d:\d\d \| loss/d \S+ loss/g \S+$"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_on_a_terminal_plain_otherwise(monkeypatch):
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert isinstance(progress_bar(), RichProgressBar)
    assert isinstance(progress_bar(mode="plain"), PlainProgressBar)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    bar = progress_bar(every=7, seconds=None)
    assert isinstance(bar, PlainProgressBar) and (bar.every, bar.seconds) == (7, None)
    assert isinstance(progress_bar(mode="rich"), RichProgressBar)
    with pytest.raises(ValueError, match="mode"):
        progress_bar(mode="fancy")


def test_gan_lab_train_writes_plain_progress_lines_to_a_file(tmp_path):
    """A real ``gan-lab train`` with standard output redirected to a file: WGAN makes 5 D steps
    per iteration (Lightning's global_step: 6 per iteration), the lines count iterations."""
    log = tmp_path / "stdout.txt"
    cmd = [sys.executable, "-m", "gan_lab.cli", "train", "model=wgan", "data=ring8",
           "iterations=5", "logger=csv", "trainer.log_every_n_steps=1",
           "callbacks.progress.every=2", f"paths.output_dir={tmp_path / 'run'}",
           f"hydra.run.dir={tmp_path / 'run'}"]
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    with open(log, "w") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True, env=env,
                                cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [x for x in log.read_text().splitlines() if x.startswith("iteration ")]
    for line in lines:
        assert LINE.match(line), line
    # the first iteration, every 2nd, the last; of 5 iterations, not 30 optimizer steps
    assert [LINE.match(x).groups() for x in lines] == [
        ("1", "5"), ("2", "5"), ("4", "5"), ("5", "5")]
    assert "━" not in log.read_text()  # no Rich bar in the file
