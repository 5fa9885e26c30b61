"""Iterations per second of gan_lab's training against a hand-written PyTorch loop of the same
nets, losses and optimizers, and against a minimal Lightning module of that loop.

    .venv/bin/python benchmarks/train_speed.py [--reps 3] [--iterations 300] [--threads 1]
        [--cases dcgan wgan_gp pacgan video dcgan_bf16] [--profile DIR]

Each case is a ``gan-lab train`` configuration (``CASES``). Each repetition runs every case in
three variants, in an order that rotates from one repetition to the next, each as a separate
process with ``iterations=N torch_threads=T``:

* ``gan_lab``: the real command, ``gan-lab train <case> iterations=N torch_threads=T``, with
  its default callbacks (progress lines; checkpoint and samples every 500 iterations, 900 for
  the video quickstart) and its default logger (W&B, offline, and gan_lab's own CSV log);
* ``hand-written``: this script's child. It composes the same config (``gan_lab.cli.compose``),
  seeds, sets the threads and the matmul precision as ``gan_lab.train`` does, builds the same
  module (``gan_lab.build.build_module``: nets, loss, regularizer, EMA copy, optimizers and LR
  schedules) and reads the batches of the same data module, then does in plain PyTorch what
  ``GANModule.training_step`` does per batch (:func:`hand_written_step`): G's samples without
  gradients, then for every discriminator its loss (the scheme's ``discriminator_loss``: what D
  sees of the batch, packing or views included, the adversarial loss and the regularizer's
  penalty), backward and an optimizer step with only that D's parameters requiring gradients,
  and the regularizer's ``after_step``; after every ``n_critic`` such D steps, G's loss
  (``generator_loss``), backward and step with the discriminators frozen, gradient clipping if
  the preset sets it, the EMA update and the LR schedules. ``bf16-mixed`` runs under
  ``torch.autocast``, as Lightning's plugin does. It omits everything gan_lab does around that
  work: Lightning's loop and hooks, checkpoints, sample files, logging (gradient norms, learning
  rates, statistics, the loggers), progress lines, divergence checks, ``images_seen``, and
  the buffer averaging of data parallelism. After 3 iterations it holds the same weights as
  ``gan-lab train``, bit for bit (``tests/test_benchmarks.py``);
* ``minimal Lightning``: the same step as the ``training_step`` of a LightningModule with
  manual optimization (``manual_backward``, Lightning's optimizer wrappers), fitted by a
  ``Trainer`` with the case's accelerator and precision and no callback besides the timer, no
  logger, no progress bar, no checkpointing.

Every variant is timed by ``timing.py``: wall seconds from the end of iteration 20 to the end of
the last one (start-up, warm-up and the end of the run are outside; so are the periodic
checkpoints and samples of ``gan_lab`` unless ``--iterations`` reaches 500). Prints, per case,
the medians of it/s (with their range), the ratios ``gan_lab ÷ hand-written`` and
``minimal Lightning ÷ hand-written`` of the median it/s (1.00: as fast) and each variant's median
peak resident memory (``ru_maxrss`` of the child process), with the machine and the load
average before and after.

``--profile DIR`` profiles the timed iterations of every variant (``cProfile``; one repetition,
statistics in ``DIR/<case>_<variant>.prof``) and prints, per case, the functions whose own time
per iteration most exceeds that of the variant below (gan_lab over minimal Lightning, minimal
Lightning over hand-written): where the difference goes, not how large it is (the profiler
slows Python code several times more than torch's kernels).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import lightning as L
import torch
from startup import load, machine
from timing import WARMUP, IterationClock, IterationTimer

from gan_lab.modules.ema import ema_update_

ROOT = Path(__file__).resolve().parents[1]
#: name: (what it is, the overrides of ``gan-lab train``)
CASES = {
    "dcgan": ("DCGAN, MNIST 28×28, batch 64", ["model=dcgan", "data=mnist"]),
    "wgan_gp": ("WGAN-GP, MNIST 28×28, batch 64, n_critic 5", ["model=wgan_gp", "data=mnist"]),
    "pacgan": ("PacGAN's toy nets (m=1), grid25, batch 100", ["experiment=pacgan1_grid25"]),
    "video": ("the video quickstart (mocogan_sprites, Moving MNIST 16×32×32, batch 16)", []),
    "dcgan_bf16": ("DCGAN, MNIST 28×28, batch 64, bf16-mixed",
                   ["model=dcgan", "data=mnist", "trainer.precision=bf16-mixed"]),
}
VARIANTS = ("hand-written", "minimal Lightning", "gan_lab")


# ---------------------------------------------------------------------- the hand-written loop


def hand_written_step(gan, real: torch.Tensor, y: torch.Tensor, g_opt, d_opts, schedulers,
                      backward=torch.Tensor.backward) -> None:
    """One update of every discriminator of ``gan`` (a :class:`~gan_lab.modules.GANModule`
    used for its nets, optimizers and the scheme's losses only) on the batch ``(real, y)``,
    then, after every ``n_critic`` of them, one G update, the EMA and the LR schedules."""
    nets = [gan.generator, *gan.discriminators.values()]
    with torch.no_grad():
        fake = gan.fake_for(real, y)
    for (name, d), opt in zip(gan.discriminators.items(), d_opts, strict=True):
        _train_only(nets, d)
        loss, _ = gan.discriminator_loss(name, real, fake, y)
        _step(opt, loss, d, gan.grad_clip_norm, backward)
        gan.regularizer.after_step(d, gan.d_steps + 1)
    gan.d_steps += 1
    if gan.d_steps % gan.n_critic == 0:
        _train_only(nets, gan.generator)
        loss, _ = gan.generator_loss(real, y)
        _step(g_opt, loss, gan.generator, gan.grad_clip_norm, backward)
        gan.iteration += 1
        if gan.generator_ema is not None:
            ema_update_(gan.generator_ema, gan.generator, gan.current_ema_decay())
        for scheduler in schedulers:
            scheduler.step()


def _train_only(nets, net) -> None:
    for n in nets:
        n.requires_grad_(n is net)


def _step(opt, loss, net, clip_norm, backward) -> None:
    opt.zero_grad(set_to_none=True)
    backward(loss)
    if clip_norm:
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip_norm)
    opt.step()


def build(cfg):
    """The data module and the module of ``cfg`` as ``gan_lab.train`` builds them, on the
    case's threads."""
    from gan_lab.train import build_run

    if cfg.get("torch_threads") is not None:
        torch.set_num_threads(cfg.torch_threads)
    return build_run(cfg)


def optimizers_of(gan) -> tuple[list, list]:
    """G's and the Ds' optimizers and their LR schedulers, as ``gan`` configures them."""
    optimizers, schedulers = gan.configure_optimizers()
    return optimizers, [s["scheduler"] for s in schedulers]


def device_and_autocast(trainer_cfg) -> tuple[torch.device, torch.dtype | None]:
    """The device of the case's ``trainer.accelerator`` and the autocast type of its
    ``trainer.precision`` (``None``: full precision)."""
    accelerator = trainer_cfg.get("accelerator", "auto")
    cuda = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    precision = str(trainer_cfg.get("precision", "32-true"))
    dtypes = {"32-true": None, "32": None, "bf16-mixed": torch.bfloat16}
    if precision not in dtypes:
        raise ValueError(f"trainer.precision={precision} is not measured here")
    return torch.device("cuda" if cuda else "cpu"), dtypes[precision]


def hand_written_loop(cfg, clock: IterationClock | None = None):
    """``cfg.iterations`` iterations of :func:`hand_written_step`; returns the module."""
    datamodule, gan = build(cfg)
    device, dtype = device_and_autocast(cfg.trainer)
    gan.to(device).train()
    (g_opt, *d_opts), schedulers = optimizers_of(gan)
    datamodule.prepare_data()
    datamodule.setup("fit")
    for real, y in datamodule.train_dataloader():  # endless
        real, y = real.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            hand_written_step(gan, real, y, g_opt, d_opts, schedulers)
        if clock is not None:
            clock.tick(gan.iteration)
        if gan.iteration >= cfg.iterations:
            return gan


class MinimalLightning(L.LightningModule):
    """:func:`hand_written_step` as the ``training_step`` of a LightningModule with manual
    optimization; stops after ``gan.max_iterations`` iterations."""

    def __init__(self, gan) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.gan = gan
        self.max_iterations = gan.max_iterations
        self.scheduler_list: list = []

    @property
    def iteration(self) -> int:
        return self.gan.iteration

    def configure_optimizers(self):
        optimizers, self.scheduler_list = optimizers_of(self.gan)
        return optimizers

    def training_step(self, batch, batch_idx: int) -> None:
        g_opt, *d_opts = self.optimizers()
        hand_written_step(self.gan, *batch, g_opt, d_opts, self.scheduler_list,
                          self.manual_backward)
        if self.gan.iteration >= self.max_iterations:
            self.trainer.should_stop = True


def minimal_lightning(cfg, result: str, profile: str | None = None) -> None:
    datamodule, gan = build(cfg)
    trainer = L.Trainer(
        accelerator=cfg.trainer.get("accelerator", "auto"), devices=1,
        precision=cfg.trainer.get("precision", "32-true"), max_epochs=-1, max_steps=-1,
        logger=False, callbacks=[IterationTimer(result, profile=profile)],
        enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        limit_val_batches=0, use_distributed_sampler=False,
    )
    trainer.fit(MinimalLightning(gan), datamodule=datamodule)


def child(variant: str, result: str, profile: str, overrides: list[str]) -> None:
    from gan_lab.cli import compose

    cfg = compose("train", overrides)
    profile = profile or None
    if variant == "hand-written":
        clock = IterationClock(WARMUP, cfg.iterations, profile)
        hand_written_loop(cfg, clock)
        clock.write(result)
    else:
        minimal_lightning(cfg, result, profile)


# --------------------------------------------------------------------------------- the parent


def command(variant: str, overrides: list[str], result: Path, run_dir: Path,
            profile: Path | None = None) -> list[str]:
    if variant == "gan_lab":
        timer = f"_target_: timing.IterationTimer, path: {result}"
        timer += f", profile: {profile}" if profile else ""
        return [sys.executable, "-m", "gan_lab.cli", "train", *overrides,
                f"hydra.run.dir={run_dir}", f"+callbacks.zz_timer={{{timer}}}"]
    return [sys.executable, __file__, "--child", variant, str(result), str(profile or ""),
            *overrides]


def measure(variant: str, overrides: list[str], tmp: Path, env: dict,
            profile: Path | None = None) -> dict[str, float]:
    run_dir = tmp / f"{variant.replace(' ', '_')}_{time.monotonic_ns()}"
    run_dir.mkdir()
    result = run_dir / "timer.json"
    cmd = command(variant, overrides, result, run_dir, profile)
    done = subprocess.run(cmd, cwd=run_dir, env=env, capture_output=True, text=True)
    if done.returncode or not result.exists():
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return json.loads(result.read_text())


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} ({min(values):.3g}–{max(values):.3g})"


def parent(args: argparse.Namespace) -> None:
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
           "PYTHONPATH": os.pathsep.join(
               [str(ROOT / "benchmarks"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("OMP_NUM_THREADS", None)  # torch_threads decides
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    print(f"machine: {machine()}, torch {torch.__version__}, Lightning {L.__version__}, "
          f"{device}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"load average before: {load()}")
    results = {case: {v: [] for v in VARIANTS} for case in args.cases}
    with tempfile.TemporaryDirectory(prefix="gan_lab_train_speed_") as tmp:
        tmp = Path(tmp)
        env["WANDB_CACHE_DIR"] = env["WANDB_CONFIG_DIR"] = str(tmp / "wandb_home")
        for rep in range(args.reps):
            order = VARIANTS[rep % 3:] + VARIANTS[: rep % 3]
            for case in args.cases:
                overrides = [*CASES[case][1], f"iterations={args.iterations}",
                             f"torch_threads={args.threads}"]
                for variant in order:
                    profile = profile_path(args.profile, case, variant) if args.profile else None
                    results[case][variant].append(
                        measure(variant, overrides, tmp, env, profile))
                print(f"  repetition {rep + 1}, {case}: " + ", ".join(
                    f"{v} {1 / results[case][v][-1]['s_per_it']:.1f} it/s" for v in VARIANTS),
                    flush=True)
    print(f"load average after: {load()}")
    print()
    print(f"{args.iterations} iterations, timed from the end of iteration {WARMUP}; "
          f"torch_threads={args.threads}; {args.reps} repetitions; medians (min–max)")
    print()
    print("| case | hand-written it/s | minimal Lightning it/s | gan_lab it/s | "
          "minimal Lightning ÷ hand-written | gan_lab ÷ hand-written | "
          "peak RSS MiB: hand-written / minimal Lightning / gan_lab |")
    print("|---|---|---|---|---|---|---|")
    for case, by_variant in results.items():
        its = {v: [1 / r["s_per_it"] for r in rs] for v, rs in by_variant.items()}
        med = {v: statistics.median(values) for v, values in its.items()}
        rss = " / ".join(f"{statistics.median(r['peak_rss_mib'] for r in by_variant[v]):.0f}"
                         for v in VARIANTS)
        label = f"{CASES[case][0]}: `{' '.join(CASES[case][1]) or '(no overrides)'}`"
        print(f"| {label} | {spread(its['hand-written'])} | {spread(its['minimal Lightning'])} "
              f"| {spread(its['gan_lab'])} | "
              f"{med['minimal Lightning'] / med['hand-written']:.2f} | "
              f"{med['gan_lab'] / med['hand-written']:.2f} | {rss} |")


def profile_path(folder: Path, case: str, variant: str) -> Path:
    """Where ``--profile`` writes the statistics of ``variant`` of ``case``."""
    return folder / f"{case}_{variant.replace(' ', '_')}.prof"


def own_times(path: Path) -> dict[str, float]:
    """Own (``tottime``) seconds of every function in the profile at ``path``."""
    out: dict[str, float] = {}
    for (file, line, name), (_, _, own, _, _) in pstats.Stats(str(path)).stats.items():
        where = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        key = f"{where}:{line}({name})"
        out[key] = out.get(key, 0.0) + own
    return out


def profile_report(folder: Path, case: str, iterations: int, top: int = 12) -> str:
    """The functions of ``case`` whose own time per iteration most exceeds the variant's
    below, in µs, with each variant's total profiled time per iteration."""
    times = {v: own_times(profile_path(folder, case, v)) for v in VARIANTS}
    lines = [f"## {case}: profiled µs per iteration, total " + ", ".join(
        f"{v} {sum(t.values()) / iterations * 1e6:.0f}" for v, t in times.items())]
    for upper, lower in (("gan_lab", "minimal Lightning"), ("minimal Lightning", "hand-written")):
        a, b = times[upper], times[lower]
        extra = sorted(((a.get(k, 0.0) - b.get(k, 0.0), k) for k in a.keys() | b.keys()),
                       reverse=True)
        lines.append(f"{upper} over {lower}:")
        lines += [f"  {d / iterations * 1e6:8.1f}  {k}" for d, k in extra[:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], argv[3], argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions of every measurement")
    parser.add_argument("--iterations", type=int, default=300,
                        help=f"iterations per run (timed after the first {WARMUP})")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--threads", type=int, default=1, help="torch_threads of every run")
    parser.add_argument("--profile", type=Path, default=None,
                        help="profile one repetition into this folder and print where it differs")
    args = parser.parse_args(argv)
    if args.iterations <= WARMUP:
        parser.error(f"--iterations must be more than the {WARMUP} of warm-up")
    if args.profile:
        args.reps = 1
        args.profile.mkdir(parents=True, exist_ok=True)
    parent(args)
    if args.profile:
        for case in args.cases:
            print(profile_report(args.profile, case, args.iterations - WARMUP))


if __name__ == "__main__":
    main()
