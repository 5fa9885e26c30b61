"""Seconds per training iteration of the video presets at micro width, on this machine.

    .venv/bin/python benchmarks/video_speed.py [--threads 1] [--iterations 10] [--warmup 3]
        [--presets mocogan vgan ...] [--resolutions 64 32] [--batch-size 16] [--set key=value ...]

Runs the real training loop (``gan_lab.train.train``: data loading, every D and G update, EMA,
logging; no sample files, no logger) of ``model=<preset>_micro`` on Moving MNIST with the
preset's clip length, at each frame size (``data.resolution``: the 64x64 canvas averaged down),
and reports the wall-clock and CPU (user + system) seconds per iteration after ``--warmup``
iterations, and the CPU time as a multiple of ``mocogan_micro``'s at 32×32 measured in the
same run. With ``--threads 1`` the CPU time is the work of one core, a bound for the wall time
on an idle machine that is hardly disturbed by other jobs sharing the cores (busy-waiting
OpenMP threads inflate both clocks when the cores are oversubscribed).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from gan_lab.train import CONF_DIR, train

PRESETS = ("vgan", "tgan", "tgan_gp", "mocogan", "dvdgan", "video_prediction")


class IterationTimer(L.Callback):
    """Writes the wall and process CPU seconds per iteration, from iteration ``warmup`` to the
    end, to the JSON file ``path``."""

    def __init__(self, warmup: int, path: str) -> None:
        self.warmup = warmup
        self.path = Path(path)
        self.start: tuple[float, float] | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.start is None and pl_module.iteration == self.warmup:
            self.start = (time.perf_counter(), time.process_time())

    def on_train_end(self, trainer, pl_module) -> None:
        n = pl_module.iteration - self.warmup
        wall, cpu = time.perf_counter() - self.start[0], time.process_time() - self.start[1]
        self.path.write_text(json.dumps({"wall": wall / n, "cpu": cpu / n}))


def measure(
    preset: str, resolution: int, batch_size: int, iterations: int, warmup: int,
    extra: list[str],
):
    overrides = [
        f"model={preset}_micro",
        "data=moving_mnist",
        f"data.resolution={resolution}",
        f"data.batch_size={batch_size}",
        f"iterations={warmup + iterations}",
        "logger=none",
        "callbacks.progress=null",
        "callbacks.samples=null",
        "callbacks.checkpoint.every=1000000",
        "+trainer.enable_progress_bar=false",
        "trainer.accelerator=cpu",
        *extra,
    ]
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig().set_config(cfg)
    with tempfile.TemporaryDirectory() as out:
        timing = Path(out) / "timing.json"
        with open_dict(cfg):
            cfg.paths.output_dir = out
            del cfg.hydra
            cfg.callbacks.timer = {
                "_target_": f"{__name__}.IterationTimer", "warmup": warmup, "path": str(timing)
            }
        train(cfg)
        result = json.loads(timing.read_text())
    return cfg.data.frames, (result["wall"], result["cpu"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--resolutions", nargs="+", type=int, default=[64, 32])
    parser.add_argument("--set", nargs="*", default=[], help="more overrides, key=value")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("WANDB_MODE", "disabled")
    print(f"torch threads {args.threads}, batch {args.batch_size}, load average "
          f"{os.getloadavg()[0]:.1f}")
    rows = []
    for preset in args.presets:
        for res in args.resolutions:
            frames, (wall, cpu) = measure(
                preset, res, args.batch_size, args.iterations, args.warmup, args.set
            )
            rows.append((preset, f"{frames}x{res}x{res}", wall, cpu))
    # the baseline of the ratios: mocogan_micro at 32x32 when measured, else the first row
    base = next((r for r in rows if r[0] == "mocogan" and r[1].endswith("x32x32")), rows[0])
    print(f"| preset | clip | wall s/it | CPU s/it | CPU × `{base[0]}_micro` {base[1]} |")
    print("|---|---|---|---|---|")
    for preset, clip, wall, cpu in rows:
        print(f"| `{preset}_micro` | {clip} | {wall:.2f} | {cpu:.2f} | {cpu / base[3]:.1f} |")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
