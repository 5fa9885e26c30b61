"""The Dirac-GAN (Mescheder, Geiger & Nowozin 2018, arXiv:1801.04406, §2.2-3): which training
methods converge to the equilibrium ``(θ, ψ) = (0, 0)``?

Every method is a set of overrides of ``experiment=dirac_gan`` (point mass at 0, ``G(z) = θ``,
``D(x) = ψ·x``, start (1, 1), alternating gradient descent with step 0.2, one D step per G step,
500 iterations: the settings of the authors' notebook) and is trained with ``gan-lab train``, the
real GANModule loop; ``callbacks.trace`` records ``(θ, ψ)`` at every iteration.

    python experiments/dirac_gan.py --root runs/dirac_gan --seeds 0 1 2 3 4

writes ``<root>/results.csv``, ``experiments/results/dirac_gan.csv``, the figure
``docs/dirac_gan.png`` (trajectories of seed 0 in the (θ, ψ) plane) and the table of
``experiments/README.md`` (between ``<!-- dirac table -->`` markers).

A method is said to converge when the distance to (0, 0), averaged over the last 50 iterations,
is below 2% of the starting distance √2 for every seed (instance noise, with its stochastic
gradients, settles within about 1% of it).
"""

from __future__ import annotations

import csv
import math
import resource
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from launch import parser as launch_parser
from launch import replace_section, save_figure, train_run, write_rows

from gan_lab.compare import mean_se

HERE = Path(__file__).resolve().parent
CONVERGED = 0.02 * math.sqrt(2)
TAIL = 50

# name -> (label, overrides of experiment=dirac_gan, the paper's verdict for alternating GD:
# its abstract and the authors' figure of these trajectories, and R3GAN's Appendix B for RpGAN)
METHODS: dict[str, tuple[str, list[str], str]] = {
    "gan": ("GAN (minimax, eq. 1)", ["loss=minimax"],
            "no (unregularized: not always convergent)"),
    "nsgan": ("non-saturating GAN", ["loss=non_saturating"],
              "no (unregularized: not always convergent)"),
    "wgan": ("WGAN, clip 1", ["loss=wasserstein", "regularizer=weight_clipping",
                              "regularizer.clip=1.0"],
             "no (finite D steps per G step)"),
    "wgan_gp": ("WGAN-GP, λ 0.35 (notebook 0.7 / 2)",
                ["loss=wasserstein", "regularizer=gradient_penalty", "regularizer.weight=0.35"],
                "no (finite D steps per G step)"),
    "instance_noise": ("instance noise σ 0.7", ["net.discriminator.instance_noise=0.7"],
                       "yes"),
    "r1": ("R1, γ 0.3", ["regularizer=r1", "regularizer.gamma=0.3"], "yes"),
    "r1_critical": ("R1, γ 1 (critical)", ["regularizer=r1", "regularizer.gamma=1.0"],
                    "yes"),
    "rpgan_r1_r2": ("RpGAN + R1 + R2, γ 0.3",
                    ["loss=relativistic", "regularizer=r1_r2", "regularizer.gamma=0.3"],
                    "yes (R3GAN, Appendix B)"),
}


def read_trace(run: Path) -> list[tuple[int, float, float]]:
    with open(run / "trace.csv", newline="") as f:
        return [(int(r["iteration"]), float(r["generator.theta"]),
                 float(r["discriminators.d.psi"])) for r in csv.DictReader(f)]


def summarize(run: Path, method: str, seed: int) -> dict:
    trace = read_trace(run)
    dist = [math.hypot(theta, psi) for _, theta, psi in trace]
    return {"method": method, "seed": seed, "iterations": trace[-1][0],
            "final_theta": trace[-1][1], "final_psi": trace[-1][2], "final_distance": dist[-1],
            "half_distance": dist[len(dist) // 2], "tail_distance": sum(dist[-TAIL:]) / TAIL}


def table(rows: list[dict]) -> str:
    lines = ["| method | paper's verdict (alternating GD) | ours: converges? | distance to (0, 0) "
             "after 250 it. | after 500 it. (mean ± SE) | seeds | overrides |",
             "|---|---|---|---|---|---|---|"]
    for name, (label, overrides, verdict) in METHODS.items():
        group = [r for r in rows if r["method"] == name]
        if not group:
            continue
        m, se = mean_se([r["final_distance"] for r in group])
        ok = all(r["tail_distance"] < CONVERGED for r in group)
        half = sum(r["half_distance"] for r in group) / len(group)
        lines.append(f"| {label} | {verdict} | {'yes' if ok else 'no'} | {half:.2e} | "
                     f"{m:.2e} ± {se:.1e} | {len(group)} | `{' '.join(overrides)}` |")
    return "\n".join(lines)


def figure(root: Path, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(14, 7), sharex=True, sharey=True)
    for ax, (name, (label, _, _)) in zip(axes.flat, METHODS.items(), strict=True):
        trace = read_trace(root / name / "seed0")
        theta = [t for _, t, _ in trace]
        psi = [p for _, _, p in trace]
        ax.plot(theta, psi, lw=1)
        ax.plot(theta[:1], psi[:1], "go", ms=4)
        ax.plot([0], [0], "r*", ms=9)
        ax.set_title(label, fontsize=9)
        ax.set_xlim(-2, 2)
        ax.set_ylim(-2, 2)
        ax.set_aspect("equal")
    for ax in axes[-1]:
        ax.set_xlabel("θ (generator)")
    for ax in axes[:, 0]:
        ax.set_ylabel("ψ (discriminator)")
    fig.suptitle("Dirac-GAN, alternating gradient descent, step 0.2, 500 iterations "
                 "(gan_lab, experiments/dirac_gan.py)", fontsize=10)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    parser = launch_parser(__doc__, [0, 1, 2, 3, 4])
    args = parser.parse_args(argv)

    jobs = [(name, seed) for seed in args.seeds for name in METHODS]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(train_run, args.root / name / f"seed{seed}",
                               ["experiment=dirac_gan", f"seed={seed}", *METHODS[name][1]],
                               f"{name} seed {seed}") for name, seed in jobs]
        for f in futures:
            f.result()
    rows = [summarize(args.root / name / f"seed{seed}", name, seed) for name, seed in jobs]
    rows.sort(key=lambda r: (list(METHODS).index(r["method"]), r["seed"]))
    write_rows(rows, args.root / "results.csv", HERE / "results" / "dirac_gan.csv")
    figure(args.root, HERE.parent / "docs" / "dirac_gan.png")
    body = table(rows)
    replace_section("dirac table", body)
    print(body)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
