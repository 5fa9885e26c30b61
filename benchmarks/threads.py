"""Seconds per iteration against ``torch_threads`` (1, 2, null = torch's default, one per core),
on an idle machine and on one whose cores are shared with other jobs.

    .venv/bin/python benchmarks/threads.py [--reps 3] [--iterations 300] [--busy 0|1|2]
        [--set model=wgan_gp data=grid25 ...]

Each repetition runs ``gan-lab train`` once per setting, in an order that rotates from one
repetition to the next, as a whole process with the default callbacks and ``logger=csv``; the
``IterationTimer`` callback of ``timing.py`` measures wall-clock seconds per iteration from the
end of iteration 20 to the end of the last one.
``--busy N`` starts ``N`` single-threaded CPU hogs (a busy loop in a separate process each) for
the duration, standing in for the other jobs of a shared machine. Prints the median per setting
and its ratio to ``torch_threads=1``, with the load average.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("1", "2", "null")


def hog() -> None:
    while True:
        pass


def run(setting: str, iterations: int, extra: list[str], tmp: Path) -> float:
    out = tmp / f"t{setting}_{time.monotonic_ns()}"
    result = out / "timer.json"
    cmd = [sys.executable, "-m", "gan_lab.cli", "train", *extra, f"iterations={iterations}",
           f"torch_threads={setting}", "logger=csv", "callbacks.progress=null",
           "+trainer.enable_progress_bar=false", "callbacks.samples.every=1000000",
           f"hydra.run.dir={out}",
           f"+callbacks.zz_timer={{_target_: timing.IterationTimer, path: {result}}}"]
    env = {**os.environ, "WANDB_MODE": "offline",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)])}
    env.pop("OMP_NUM_THREADS", None)  # torch_threads decides
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)
    return json.loads(result.read_text())["s_per_it"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--busy", type=int, default=0, help="CPU hogs running meanwhile")
    parser.add_argument("--set", nargs="*", default=["model=wgan_gp", "data=grid25"])
    args = parser.parse_args(argv)
    hogs = [mp.Process(target=hog, daemon=True) for _ in range(args.busy)]
    for h in hogs:
        h.start()
    times: dict[str, list[float]] = {s: [] for s in SETTINGS}
    loads = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rep in range(args.reps):
                order = SETTINGS[rep % 3:] + SETTINGS[: rep % 3]
                for setting in order:
                    times[setting].append(run(setting, args.iterations, args.set, Path(tmp)))
                    loads.append(os.getloadavg()[0])
    finally:
        for h in hogs:
            h.terminate()
    base = statistics.median(times["1"])
    print(f"{' '.join(args.set)}, {args.iterations} iterations, {args.reps} reps, "
          f"{args.busy} hog(s), {os.cpu_count()} cores, load average "
          f"{min(loads):.1f}-{max(loads):.1f}")
    print("| torch_threads | s / iteration (median) | min | max | vs 1 thread |")
    print("|---|---|---|---|---|")
    for setting, values in times.items():
        m = statistics.median(values)
        print(f"| {setting} | {m:.4f} | {min(values):.4f} | {max(values):.4f} | "
              f"{m / base:.2f}x |")


if __name__ == "__main__":
    main()
