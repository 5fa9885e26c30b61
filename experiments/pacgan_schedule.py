"""PacGAN's Table 1 ordering on grid25 (Lin et al. 2018, arXiv:1712.04086) against the training
schedule: GAN (``experiment=pacgan1_grid25``) and PacGAN2 (``experiment=pacgan2_grid25``) with the
paper's nets, optimizer and batch of 100 packs, evaluated every ``--every`` iterations with the
paper's protocol (``metrics=[toy_modes]``: 2,500 samples of the generator, high quality within
3σ, reverse KL), ``--seeds`` per model. Each row says whether PacGAN2's mean modes are at least
GAN's and its mean reverse KL at most GAN's, and whether both differences exceed two standard
errors of the difference.

    python experiments/pacgan_schedule.py --root runs/pacgan_schedule --iterations 20000

writes ``<root>/curves.csv``, ``experiments/results/pacgan_schedule.csv``, the figure
``docs/pacgan_schedule.png`` and the table of ``experiments/README.md`` (between
``<!-- pacgan schedule -->`` markers).
"""

from __future__ import annotations

import json
import math
import resource
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from launch import parser as launch_parser
from launch import replace_section, save_figure, train_run, write_rows

from gan_lab.compare import mean_se

HERE = Path(__file__).resolve().parent
MODELS = {"GAN": "pacgan1_grid25", "PacGAN2": "pacgan2_grid25"}
PUBLISHED = {"GAN": ("17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07"),
             "PacGAN2": ("23.8 ± 0.7", "91.3 ± 0.8", "0.13 ± 0.04")}


def curve(run: Path, model: str, seed: int) -> list[dict]:
    rows = []
    for line in (run / "eval" / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        scores = record["scores"]
        rows.append({"model": model, "seed": seed, "iteration": record["iteration"],
                     **{k: scores[k]["value"] for k in ("modes", "high_quality", "reverse_kl")}})
    return rows


def aggregate(rows: list[dict]) -> dict[tuple[str, int], dict[str, tuple[float, float]]]:
    """(model, iteration) -> metric -> (mean, standard error) over seeds."""
    out = {}
    for key in sorted({(r["model"], r["iteration"]) for r in rows}):
        group = [r for r in rows if (r["model"], r["iteration"]) == key]
        out[key] = {m: mean_se([float(r[m]) for r in group]) for m in
                    ("modes", "high_quality", "reverse_kl")}
        out[key]["seeds"] = (len(group), 0.0)
    return out


def difference(stats, iteration: int, key: str) -> tuple[float, float]:
    """PacGAN2 − GAN of the means of ``key`` and the standard error of that difference."""
    (g, g_se), (p, p_se) = stats[("GAN", iteration)][key], stats[("PacGAN2", iteration)][key]
    return p - g, math.hypot(g_se, p_se)


def ordered_at(stats, iteration: int, margin: float = 0.0) -> bool:
    """PacGAN2 ≥ GAN on modes and ≤ on reverse KL, each by more than ``margin`` standard errors
    of the difference (0: in the means; 2: about a two-sided 95% test)."""
    modes, modes_se = difference(stats, iteration, "modes")
    kl, kl_se = difference(stats, iteration, "reverse_kl")
    return modes >= margin * modes_se and -kl >= margin * kl_se


def published_difference(column: int) -> float:
    """PacGAN2 − GAN of the paper's means in column ``column`` of ``PUBLISHED``."""
    def mean(model):
        return float(PUBLISHED[model][column].split(" ± ")[0])
    return mean("PacGAN2") - mean("GAN")


def table(stats) -> str:
    iterations = sorted({it for _, it in stats})
    lines = ["| iterations (% of 400k) | GAN modes | PacGAN2 modes | GAN high quality (%) | "
             "PacGAN2 high quality (%) | GAN reverse KL | PacGAN2 reverse KL | PacGAN2 − GAN: "
             "modes | PacGAN2 − GAN: reverse KL | paper's ordering (PacGAN2 ≥ GAN on modes and "
             "KL) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for it in iterations:
        if ("GAN", it) not in stats or ("PacGAN2", it) not in stats:
            continue
        g, p = stats[("GAN", it)], stats[("PacGAN2", it)]

        def cell(s, key, factor=1.0, fmt=".1f"):
            m, se = s[key]
            return f"{m * factor:{fmt}} ± {se * factor:{fmt}}"

        lines.append(
            f"| {it:,} ({100 * it / 400_000:.1f}%) | {cell(g, 'modes')} | {cell(p, 'modes')} | "
            f"{cell(g, 'high_quality', 100)} | {cell(p, 'high_quality', 100)} | "
            f"{cell(g, 'reverse_kl', fmt='.2f')} | {cell(p, 'reverse_kl', fmt='.2f')} | "
            "{:+.1f} ± {:.1f} | {:+.2f} ± {:.2f} | ".format(*difference(stats, it, "modes"),
                                                         *difference(stats, it, "reverse_kl"))
            + ("yes, by > 2 SE on both" if ordered_at(stats, it, 2.0)
               else "yes" if ordered_at(stats, it) else "no") + " |")
    lines.append(f"| published (400,000, 10 runs) | {PUBLISHED['GAN'][0]} | "
                 f"{PUBLISHED['PacGAN2'][0]} | {PUBLISHED['GAN'][1]} | {PUBLISHED['PacGAN2'][1]} "
                 f"| {PUBLISHED['GAN'][2]} | {PUBLISHED['PacGAN2'][2]} | "
                 f"{published_difference(0):+.1f} | {published_difference(2):+.2f} | yes |")
    return "\n".join(lines)


def figure(stats, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for model in MODELS:
        its = sorted(it for m, it in stats if m == model)
        for ax, key in zip(axes, ("modes", "reverse_kl"), strict=True):
            mean = [stats[(model, it)][key][0] for it in its]
            se = [stats[(model, it)][key][1] for it in its]
            ax.plot(its, mean, marker="o", ms=3, label=model)
            ax.fill_between(its, [m - s for m, s in zip(mean, se, strict=True)],
                            [m + s for m, s in zip(mean, se, strict=True)], alpha=0.2)
    axes[0].set_ylabel("modes (of 25)")
    axes[1].set_ylabel("reverse KL")
    for ax in axes:
        ax.set_xlabel("iterations")
        ax.legend()
    fig.suptitle("PacGAN grid25, the paper's nets and optimizer: mean ± SE over seeds "
                 "(experiments/pacgan_schedule.py)", fontsize=10)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    parser = launch_parser(__doc__, [0, 1, 2, 3, 4])
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--every", type=int, default=2500)
    args = parser.parse_args(argv)

    jobs = [(model, seed) for seed in args.seeds for model in MODELS]
    overrides = [f"iterations={args.iterations}", "metrics=[toy_modes]",
                 f"callbacks.evaluation.every={args.every}", "callbacks.samples.every=1000000"]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(train_run, args.root / model / f"seed{seed}",
                               [f"experiment={MODELS[model]}", f"seed={seed}", *overrides],
                               f"{model} seed {seed}") for model, seed in jobs]
        for f in futures:
            f.result()
    rows = [r for model, seed in jobs for r in curve(args.root / model / f"seed{seed}", model,
                                                      seed) if r["iteration"] <= args.iterations]
    write_rows(rows, args.root / "curves.csv", HERE / "results" / "pacgan_schedule.csv")
    stats = aggregate(rows)
    figure(stats, HERE.parent / "docs" / "pacgan_schedule.png")
    body = table(stats)
    replace_section("pacgan schedule", body)
    print(body)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
