"""Start-up of a 1-iteration ``gan-lab train`` against ``python -c "import torch, lightning"``.

    .venv/bin/python benchmarks/startup.py [--reps 7] [--set key=value ...]

Each repetition runs, in turn (the order rotates from one repetition to the next, so that a
drift of the machine's speed hits every command alike):

* ``python -c "import torch, lightning"``: the floor that every Lightning run pays, and the same
  with ``gc.freeze()`` at its end, as ``gan-lab train`` does after its imports (the shutdown of
  an interpreter holding torch and Lightning otherwise spends seconds in the garbage collector);
* ``gan-lab train model=gan data=grid25 logger=csv iterations=1`` (plus ``--set`` overrides),
  the real command, timed from outside as a whole process;
* the same command run through this script (``--child``), which timestamps the phases of the
  run without changing its code path: the Hydra application of ``gan_lab.cli``, then the task.

Phases (wall seconds, medians over the repetitions):

* ``python``: interpreter start-up, to the first line of the child;
* ``cli + compose``: ``gan_lab.cli``, Hydra, composing ``conf/train.yaml``, the run folder;
* ``imports``: ``import gan_lab.train`` (torch, Lightning, gan_lab's modules);
* ``build``: ``config.yaml``, seeding, the data module, the model and the callbacks;
* ``logger init``: instantiating the loggers;
* ``Trainer``: instantiating the ``Trainer``;
* ``W&B init``: ``wandb.init`` (``gan_lab.loggers.prepare_wandb``, the first use of the W&B
  logger; nothing without one);
* ``fit start``: hyper-parameters to the loggers, ``fit`` up to the ``setup`` hooks;
* ``first step``: optimizers, data loader, the first iteration (``n_critic`` D steps, one G step);
* ``end + exit``: end-of-run callbacks (last checkpoint, sample file), teardown, exit.

``gan_lab adds`` is the median of the real command minus the median of a floor.
"""

from __future__ import annotations

import time

# before anything else: the end of the interpreter's start-up (wall clock, process CPU)
T_FIRST_LINE = (time.time(), time.process_time())

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

RUN = ["model=gan", "data=grid25", "logger=csv", "iterations=1"]
# The floor as gan-lab exits: gan_lab.app freezes the objects of the imports (gc.freeze), which
# spares the interpreter's shutdown ~2 s of traversing them; this floor does the same.
FROZEN = "import torch, lightning, gc; gc.freeze()"
EVENTS: list[tuple[str, tuple[float, float]]] = []  # (event, (wall, CPU))
PHASES = [
    ("python", "launch", "first_line"),
    ("cli + compose", "first_line", "import_train_start"),
    ("imports", "import_train_start", "import_train_end"),
    ("build", "import_train_end", "loggers_start"),
    ("logger init", "loggers_start", "loggers_end"),
    ("Trainer", "loggers_end", "wandb_start"),
    ("W&B init", "wandb_start", "wandb_end"),
    ("fit start", "wandb_end", "setup"),
    ("first step", "setup", "first_iteration"),
    ("end + exit", "first_iteration", "exit"),
]


# ---------------------------------------------------------------------------------- the child


def _event(name: str) -> None:
    EVENTS.append((name, (time.time(), time.process_time())))


def _phase_timer():
    """A Lightning callback (instantiated by Hydra among the callbacks, after the others) that
    records the ``setup`` hook and the end of the first iteration."""
    import lightning as L

    class PhaseTimer(L.Callback):
        def setup(self, trainer, pl_module, stage):
            _event("setup")

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if getattr(pl_module, "iteration", 1) >= 1 and not any(
                e == "first_iteration" for e, _ in EVENTS
            ):
                _event("first_iteration")

    return PhaseTimer()


class _TrainImportTimer:
    """A meta path finder that timestamps the import of ``gan_lab.train`` (which the Hydra task
    does when the run starts) and, once it is imported, of its loggers' instantiation (the
    second call of ``gan_lab.train._instantiate_all``; the first makes the callbacks)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "gan_lab.train":
            return None
        sys.meta_path.remove(cls)
        from importlib.machinery import PathFinder

        _event("import_train_start")
        spec = PathFinder.find_spec(name, path)
        exec_module = spec.loader.exec_module

        def timed_exec(module):
            exec_module(module)
            _event("import_train_end")
            _wrap_instantiate_all(module)

        spec.loader.exec_module = timed_exec
        return spec


def _wrap_instantiate_all(module) -> None:
    """Timestamps the second call of ``module._instantiate_all`` (the loggers; the first makes
    the callbacks) and the call of ``module.prepare_wandb`` (W&B's init). A name that
    ``gan_lab.train`` no longer has is left out, and the phases next to its events are not
    reported."""
    calls: dict[str, int] = {}

    def wrap(name: str, start: str, end: str, which=lambda: True) -> None:
        original = getattr(module, name, None)
        if original is None:
            return

        def timed(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            mark = which()
            if mark:
                _event(start)
            try:
                return original(*args, **kwargs)
            finally:
                if mark:
                    _event(end)

        setattr(module, name, timed)

    wrap("_instantiate_all", "loggers_start", "loggers_end",
         which=lambda: calls["_instantiate_all"] == 2)
    wrap("prepare_wandb", "wandb_start", "wandb_end")


def child(overrides: list[str], events_path: str) -> None:
    import atexit

    EVENTS.append(("first_line", T_FIRST_LINE))
    atexit.register(lambda: Path(events_path).write_text(json.dumps(dict(EVENTS))))
    sys.meta_path.insert(0, _TrainImportTimer)
    from gan_lab.cli import main

    main(["train", *overrides, "+callbacks.startup_phases._target_=__main__._phase_timer"])


# --------------------------------------------------------------------------------- the parent


def gan_lab_command() -> list[str]:
    script = Path(sys.executable).with_name("gan-lab")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gan_lab.cli"]


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, float]:
    """(launch time, wall seconds, CPU seconds) of a command run to its end; fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, t0 = time.time(), time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return start, wall, cpu


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def parent(reps: int, extra: list[str]) -> None:
    import torch  # noqa: F401  (warm the file cache before the first timed run)

    keys = {o.split("=", 1)[0] for o in extra}
    overrides = [*(o for o in RUN if o.split("=", 1)[0] not in keys), *extra]
    env = {**os.environ, "WANDB_MODE": os.environ.get("WANDB_MODE", "offline"),
           "WANDB_SILENT": "true"}
    commands = {
        "floor": "`python -c \"import torch, lightning\"`",
        "frozen floor": "`python -c \"import torch, lightning, gc; gc.freeze()\"`",
        "gan-lab": f"`gan-lab train {' '.join(overrides)}`",
        "child": "the same, instrumented",
    }
    totals = {name: {"wall": [], "cpu": []} for name in commands}
    phases = {name: {"wall": [], "cpu": []} for name, _, _ in PHASES}
    print(f"machine: {machine()}; load average before: {load()}")
    print(f"gan-lab train {' '.join(overrides)}; {reps} repetitions")
    with tempfile.TemporaryDirectory(prefix="gan_lab_startup_") as tmp:
        tmp = Path(tmp)
        env["WANDB_CACHE_DIR"] = env["WANDB_CONFIG_DIR"] = str(tmp / "wandb_home")
        for rep in range(reps):
            events_path = tmp / f"events{rep}.json"
            jobs = [
                ("floor", [sys.executable, "-c", "import torch, lightning"]),
                ("frozen floor", [sys.executable, "-c", FROZEN]),
                ("gan-lab", [*gan_lab_command(), "train", *overrides,
                             f"hydra.run.dir={tmp}/run{rep}"]),
                ("child", [sys.executable, __file__, "--child", str(events_path), "--",
                           *overrides, f"hydra.run.dir={tmp}/child{rep}"]),
            ]
            for name, cmd in jobs[rep % 4:] + jobs[: rep % 4]:  # rotate the order
                start, wall, cpu = timed(cmd, tmp, env)
                totals[name]["wall"].append(wall)
                totals[name]["cpu"].append(cpu)
                if name == "child":
                    events = {"launch": (start, 0.0), **json.loads(events_path.read_text()),
                              "exit": (start + wall, cpu)}
                    for phase, a, b in PHASES:
                        if a in events and b in events:
                            phases[phase]["wall"].append(events[b][0] - events[a][0])
                            phases[phase]["cpu"].append(events[b][1] - events[a][1])
            print(f"  repetition {rep + 1}: " + ", ".join(
                f"{name} {totals[name]['wall'][-1]:.2f} s" for name in commands), flush=True)
    print(f"load average after: {load()}")
    print()
    print("| phase of the instrumented run | wall s | CPU s |")
    print("|---|---|---|")
    for phase, values in phases.items():
        print(f"| {phase} | {median(values['wall']):.2f} | {median(values['cpu']):.2f} |")
    print(f"| sum of the medians | {sum(median(v['wall']) for v in phases.values()):.2f} | "
          f"{sum(median(v['cpu']) for v in phases.values()):.2f} |")
    print()
    print("| command (whole process) | wall s: median | min | max | CPU s: median |")
    print("|---|---|---|---|---|")
    for name, label in commands.items():
        wall, cpu = totals[name]["wall"], totals[name]["cpu"]
        print(f"| {label} | {median(wall):.2f} | {min(wall):.2f} | {max(wall):.2f} | "
              f"{median(cpu):.2f} |")
    print()
    for floor in ("floor", "frozen floor"):
        for clock in ("wall", "cpu"):
            added = median(totals["gan-lab"][clock]) - median(totals[floor][clock])
            print(f"gan_lab adds {added:+.2f} s of {'wall' if clock == 'wall' else 'CPU'} time "
                  f"over {commands[floor]} (difference of the medians)")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        rest = sys.argv[3:]
        child(rest[1:] if rest[:1] == ["--"] else rest, sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions of each command")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="overrides of the gan-lab run, replacing the default ones with "
                        "the same key (e.g. logger=wandb)")
    args = parser.parse_args()
    parent(args.reps, args.set)


if __name__ == "__main__":
    main()
