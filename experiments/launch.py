"""Shared by the reproduction scripts: one ``gan-lab train`` run in a subprocess on one core,
timed, and tables rewritten in place in ``experiments/README.md``."""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"
QUIET = ["logger=csv", "callbacks.progress=null", "+trainer.enable_progress_bar=false"]


def train_run(out: Path, overrides: list[str], label: str, check: bool = True) -> dict:
    """``gan-lab train <overrides>`` into ``out`` on one thread, unless ``out/time.json`` says it
    finished already; an unfinished run resumes from its last checkpoint (exactly: a sweep can
    be stopped and continued) or starts again when it has none. Returns its wall and CPU
    seconds (of this attempt) and exit code, which ``time.json`` records. A failed run raises,
    unless ``check=False`` (a run that may diverge: its exit code is then part of the
    result)."""
    if (out / "time.json").exists():
        return json.loads((out / "time.json").read_text())
    last = out / "checkpoints" / "last.ckpt"
    resume = [f"resume={last}"] if last.is_file() else []
    if out.exists() and not resume:
        shutil.rmtree(out)
    elif resume:
        (out / "config.yaml").unlink(missing_ok=True)  # this attempt records its own
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "gan_lab.cli", "train", *QUIET, f"hydra.run.dir={out}",
           *overrides, *resume]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "WANDB_MODE": os.environ.get("WANDB_MODE", "offline")}
    start = time.monotonic()
    with open(out / "stdout.log", "a") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and check:
        raise RuntimeError(f"{label} failed: see {out / 'stdout.log'}")
    times = {"wall_s": time.monotonic() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
             "exit_code": code, "resumed": bool(resume)}
    (out / "time.json").write_text(json.dumps(times))
    print(f"{label}: {times['cpu_s']:.0f} s CPU, {times['wall_s']:.0f} s wall, exit {code}",
          flush=True)
    return times


def replace_section(marker: str, body: str, path: Path = README) -> None:
    """Replace the text between ``<!-- marker -->`` and ``<!-- /marker -->`` in ``path``."""
    text = path.read_text()
    start, end = f"<!-- {marker} -->\n", f"<!-- /{marker} -->"
    if start not in text or end not in text:
        raise ValueError(f"{path} has no '{start.strip()}' ... '{end}' section")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + start + body.rstrip("\n") + "\n" + end + tail)


def parser(doc: str, seeds: list[int]) -> argparse.ArgumentParser:
    """The options every reproduction script takes: ``--root``, ``--seeds``, ``--jobs``."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--root", type=Path, required=True, help="where the runs go")
    p.add_argument("--seeds", type=int, nargs="+", default=seeds)
    p.add_argument("--jobs", type=int, default=1, help="runs at once (each on one core)")
    return p


def write_rows(rows: list[dict], *paths: Path) -> None:
    """``rows`` as CSV (the keys of the first row as header) at each of ``paths``."""
    for path in paths:
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def save_figure(fig, path: Path) -> None:
    """Lay out and write a matplotlib figure (PNG at 110 dpi)."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
