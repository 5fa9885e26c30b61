"""The notebooks in notebooks/ run top to bottom (so they never rot) on a kernel that uses this
Python."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from PIL import Image

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernelspec named ``gan_lab`` running ``sys.executable`` (this venv's Python)."""
    spec = tmp_path / "jupyter" / "kernels" / "gan_lab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gan_lab", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return "gan_lab"


def run_notebook(name: str, kernel: str, cwd: Path) -> nbformat.NotebookNode:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(book, kernel_name=kernel, timeout=300,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return book


def outputs(book, kind: str) -> list:
    return [o for c in book.cells if c.cell_type == "code" for o in c.outputs
            if kind in o.get("data", {}) or o.get("output_type") == kind]


def test_quickstart_trains_samples_and_shows_images(kernel, tmp_path):
    book = run_notebook("quickstart.ipynb", kernel, tmp_path)
    assert (tmp_path / "outputs" / "quickstart" / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "outputs" / "quickstart" / "grid.png").is_file()
    assert len(outputs(book, "image/png")) >= 3  # losses, the grid, the samples
    gif = tmp_path / "outputs" / "quickstart_video" / "clips.gif"
    with Image.open(gif) as clips:
        assert clips.n_frames == 16  # MoCoGAN's 16-frame clips
    assert len(outputs(book, "image/gif")) == 1  # the clips, shown in the notebook


def test_compare_runs_tabulates_and_plots(kernel, tmp_path):
    book = run_notebook("compare_runs.ipynb", kernel, tmp_path)
    printed = "".join(o["text"] for o in outputs(book, "stream"))
    assert "eval/modes" in printed and "±" in printed
    assert "lsgan" in printed.lower() or "LeastSquares" in printed
    assert len(outputs(book, "image/png")) >= 2
    assert (tmp_path / "multirun" / "compare_runs" / "loss_d.png").is_file()
