"""R3GAN's Stacked MNIST loss ablation (Huang et al. 2024, arXiv:2501.05441, Table 1) at CPU
scale: RpGAN + R1 + R2, GAN + R1 + R2, RpGAN + R1 and GAN + R1, each a set of overrides of
``experiment=r3gan_stacked_mnist_cpu``, trained with ``gan-lab train`` and evaluated at the end
with ``metrics=[stacked_mnist]`` (26,000 samples of the EMA generator labelled by mnistnet:
modes of 1,000 and KL of the mode histogram to uniform). A run whose loss becomes non-finite
stops with gan_lab's divergence error; it is reported as diverged, with its iteration.

    python experiments/r3gan_stacked_mnist.py --root runs/r3gan_stacked_mnist --seeds 0 1 2
    python experiments/r3gan_stacked_mnist.py --root runs/r3gan_stacked_mnist --rows gan_r1_g0.1

``--rows`` runs some rows and keeps the other rows' earlier runs from the results CSV.

writes ``<root>/results.csv``, ``experiments/results/r3gan_stacked_mnist_cpu.csv`` and the table
of ``experiments/README.md`` (between ``<!-- r3gan table -->`` markers).
"""

from __future__ import annotations

import csv
import json
import re
import resource
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from launch import parser as launch_parser
from launch import replace_section, train_run, write_rows

from gan_lab.compare import mean_se

HERE = Path(__file__).resolve().parent
RECIPE = "r3gan_stacked_mnist_cpu"
R1_ONLY = ["regularizer=r1", "regularizer.gamma=1.0"]
R1_ONLY_WEAK = ["regularizer=r1", "regularizer.gamma=0.1"]  # the lower end of the footnote's γ

# name -> (label, overrides, published modes, published KL): Table 1 of the paper
ROWS: dict[str, tuple[str, list[str], str, str]] = {
    "rpgan_r1_r2": ("RpGAN + R1 + R2", [], "1000", "0.0781"),
    "gan_r1_r2": ("GAN + R1 + R2", ["loss=non_saturating"], "693", "0.9270"),
    "rpgan_r1": ("RpGAN + R1", R1_ONLY, "Fail", "Fail"),
    "gan_r1": ("GAN + R1", ["loss=non_saturating", *R1_ONLY], "Fail", "Fail"),
    "rpgan_r1_g0.1": ("RpGAN + R1, γ 0.1", R1_ONLY_WEAK, "Fail", "Fail"),
    "gan_r1_g0.1": ("GAN + R1, γ 0.1", ["loss=non_saturating", *R1_ONLY_WEAK], "Fail", "Fail"),
}
RESULTS = HERE / "results" / f"{RECIPE}.csv"


def result(run: Path, name: str, seed: int) -> dict:
    times = json.loads((run / "time.json").read_text())
    row = {"row": name, "seed": seed, "status": "finished", "iteration": None, "modes": None,
           "kl": None, **times}
    log = (run / "stdout.log").read_text()
    diverged = re.search(r"non-finite loss at iteration (\d+)", log)
    if diverged:
        row.update(status="diverged", iteration=int(diverged.group(1)))
    elif times["exit_code"]:
        raise RuntimeError(f"{run} failed for another reason: see {run / 'stdout.log'}")
    metrics = run / "eval" / "metrics.jsonl"
    if metrics.is_file():
        last = json.loads(metrics.read_text().splitlines()[-1])
        row["modes"] = last["scores"]["modes"]["value"]
        row["kl"] = last["scores"]["kl"]["value"]
        row["iteration"] = row["iteration"] or last["iteration"]
    return row


def read_results(path: Path) -> list[dict]:
    """The per-run rows of an earlier ``write_rows``, typed as :func:`result` returns them."""
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["seed"] = int(row["seed"])
        row["iteration"] = int(row["iteration"]) if row["iteration"] else None
        for key in ("modes", "kl"):
            row[key] = float(row[key]) if row[key] else None
        for key in ("wall_s", "cpu_s"):
            row[key] = float(row[key])
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| loss | published modes | ours modes | published KL | ours KL | ours: diverged "
             "| seeds | CPU s / run | overrides |", "|---|---|---|---|---|---|---|---|---|"]
    for name, (label, overrides, modes, kl) in ROWS.items():
        group = [r for r in rows if r["row"] == name]
        if not group:
            continue
        done = [r for r in group if r["status"] == "finished"]
        cells = []
        for key, fmt in (("modes", ".1f"), ("kl", ".3f")):
            if done:
                m, se = mean_se([float(r[key]) for r in done])
                cells.append(f"{m:{fmt}} ± {se:{fmt}}")
            else:
                cells.append("—")
        diverged = [r for r in group if r["status"] == "diverged"]
        div = (f"{len(diverged)} of {len(group)} (at iteration "
               f"{', '.join(str(r['iteration']) for r in diverged)})" if diverged
               else f"0 of {len(group)}")
        cpu = sum(r["cpu_s"] for r in group) / len(group)
        lines.append(f"| {label} | {modes} | {cells[0]} | {kl} | {cells[1]} | {div} | "
                     f"{len(group)} | {cpu:.0f} | `{' '.join(overrides) or '(none)'}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = launch_parser(__doc__, [0, 1, 2])
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS),
                        help="rows to run; the others keep their runs in " + str(RESULTS.name))
    args = parser.parse_args(argv)

    jobs = [(name, seed) for seed in args.seeds for name in args.rows]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(train_run, args.root / name / f"seed{seed}",
                               [f"experiment={RECIPE}", f"seed={seed}", *ROWS[name][1]],
                               f"{name} seed {seed}", False) for name, seed in jobs]
        for f in futures:
            f.result()
    rows = [result(args.root / name / f"seed{seed}", name, seed) for name, seed in jobs]
    rows += [r for r in read_results(RESULTS) if r["row"] not in args.rows and r["row"] in ROWS]
    rows.sort(key=lambda r: (list(ROWS).index(r["row"]), r["seed"]))
    write_rows(rows, args.root / "results.csv", RESULTS)
    body = table(rows)
    replace_section("r3gan table", body)
    print(body)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
