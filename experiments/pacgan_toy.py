"""PacGAN's Table 1 (Lin et al. 2018, arXiv:1712.04086) on the 2-D ring and grid.

Trains every recipe for every seed with ``gan-lab train`` (one subprocess per run, skipped when
its final checkpoint exists, so the sweep can be stopped and continued), then evaluates each
final checkpoint with the paper's protocol (``gan-lab eval metrics=[toy_modes] ema=false``):
2,500 samples of the generator itself (PacGAN keeps no weight average), a sample is high
quality within 3 standard deviations of its nearest mode, a mode is captured when it has a
high-quality sample, reverse KL of the mode histogram.

    python experiments/pacgan_toy.py train --root runs/pacgan_toy --scale cpu --seeds 0 1 2 3 4
    python experiments/pacgan_toy.py evaluate --root runs/pacgan_toy

``evaluate`` writes ``<root>/results.csv`` (one row per finished run, with its CPU time) and
prints the table of mean ± standard error over seeds that ``experiments/README.md`` reports.
``train --recipes NAME...`` trains other recipes the same way (the Stacked MNIST ones, whose
evaluation runs at the end of training: ``gan-lab compare <root>`` tabulates them).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from launch import train_run

from gan_lab.compare import mean_se

RECIPES = [f"pacgan{m}_{data}" for data in ("ring8", "grid25") for m in (1, 2, 3, 4)]
N_SAMPLES = 2500
SAMPLE_SEED = 0


def run_folder(root: Path, recipe: str, seed: int) -> Path:
    return root / recipe / f"seed{seed}"


def train_one(root: Path, recipe: str, seed: int, extra: list[str]) -> None:
    """One ``gan-lab train`` run of ``recipe`` and ``seed`` on one core (skipped when done)."""
    train_run(run_folder(root, recipe, seed),
              [f"experiment={recipe}", f"seed={seed}", "callbacks.samples.every=1000000", *extra],
              f"{recipe} seed {seed}")


def evaluate_one(run: Path) -> dict:
    """Mode coverage of the final checkpoint of ``run`` (PacGAN's protocol), with
    ``gan-lab eval metrics=[toy_modes] ema=false``; the scores and their protocol cards go to
    ``<run>/metrics.json``."""
    from gan_lab.cli import compose
    from gan_lab.evaluate import evaluate

    ckpt = run / "checkpoints" / "last.ckpt"
    scores, _ = evaluate(compose("eval", [
        f"ckpt={ckpt}", "metrics=[toy_modes]", "ema=false", f"seed={SAMPLE_SEED}",
        f"metrics.toy_modes.n_fake={N_SAMPLES}", f"out={run / 'metrics.json'}",
    ]))
    card = scores[0].card
    times = json.loads((run / "time.json").read_text()) if (run / "time.json").exists() else {}
    return {
        "recipe": run.parent.name, "seed": int(run.name.removeprefix("seed")),
        "iterations": card["iteration"], **{s.name: s.value for s in scores}, **times,
    }


def summarize(rows: list[dict]) -> str:
    """A markdown table: modes, high-quality share (%), reverse KL; mean ± SE over seeds."""
    lines = ["| recipe | seeds | modes | high quality (%) | reverse KL | CPU s / run |",
             "|---|---|---|---|---|---|"]
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        group = [r for r in rows if r["recipe"] == recipe]
        cells = []
        for key, factor, fmt in (("modes", 1, ".1f"), ("high_quality", 100, ".1f"),
                                 ("reverse_kl", 1, ".2f")):
            m, se = mean_se([float(r[key]) * factor for r in group])
            cells.append(f"{m:{fmt}} ± {se:{fmt}}")
        cpu = [float(r["cpu_s"]) for r in group if r.get("cpu_s")]
        cpu_cell = f"{sum(cpu) / len(cpu):.0f}" if cpu else "-"
        lines.append(f"| {recipe} | {len(group)} | {' | '.join(cells)} | {cpu_cell} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train the missing runs")
    tr.add_argument("--root", type=Path, required=True)
    tr.add_argument("--scale", choices=["paper", "cpu"], default="cpu")
    tr.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    tr.add_argument("--recipes", nargs="+", default=RECIPES)
    tr.add_argument("--jobs", type=int, default=1, help="runs at once (each on one core)")
    tr.add_argument("overrides", nargs="*", help="extra gan-lab train overrides")
    ev = sub.add_parser("evaluate", help="evaluate every run under --root")
    ev.add_argument("--root", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "train":
        suffix = "_cpu" if args.scale == "cpu" else ""
        jobs = [(r + suffix, s) for s in args.seeds for r in args.recipes]  # seeds outer
        with ThreadPoolExecutor(args.jobs) as pool:
            for f in [pool.submit(train_one, args.root, r, s, args.overrides) for r, s in jobs]:
                f.result()
        return
    runs = sorted(p.parent for p in args.root.glob("*/seed*/time.json"))  # finished runs
    rows = [evaluate_one(run) for run in runs]
    order = {name: i for i, name in enumerate(RECIPES)}
    rows.sort(key=lambda r: (order.get(r["recipe"].removesuffix("_cpu"), 99), r["seed"]))
    with open(args.root / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(summarize(rows))
    print(f"\nper-run rows: {args.root / 'results.csv'}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
