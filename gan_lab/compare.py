"""``gan-lab compare``: runs side by side without a server.

Reads what gan_lab writes into every run folder, whatever the loggers: ``config.yaml`` (the
resolved config), the run's CSV log ``csv/metrics.csv`` (written for every run), the evaluation
callback's ``eval/metrics.jsonl`` and ``metrics.json`` written by ``gan-lab eval`` (beside the
run's checkpoints or in the run folder); never a logger's private files. Prints the
config values that differ between runs and their final metrics; runs that differ only in their
seed are one configuration, reported as mean ± standard error over seeds. ``--plot METRIC``
draws that metric over iterations, one line per run.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gan_lab.text import flatten
from gan_lab.text import format_table as text_table

__all__ = ["Run", "load_run", "find_runs", "compare", "mean_se", "format_table", "plot_metric"]

# Config keys that never tell runs apart: where and how a run is logged, and values derived from
# other keys (data.seed follows seed; model.max_iterations follows iterations).
IGNORED_PREFIXES = ("paths.", "logger.", "callbacks.", "hydra.", "trainer.enable_progress_bar")
IGNORED_KEYS = {"resume", "data.seed", "model.max_iterations", "name"}
SEED_KEY = "seed"


@dataclass
class Run:
    """One run: its flat config, final metric values and metric series.

    Attributes:
        config: flat ``{"model.n_critic": 5, ...}``.
        final: the last value of each metric; evaluation scores are ``eval/<name>``.
        series: ``{metric: [(iteration, value), ...]}`` in iteration order.
    """

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.config.get("name") or self.path.name)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _add_point(run: Run, key: str, iteration: float | None, value: float | None) -> None:
    if value is None:
        return
    run.final[key] = value
    if iteration is not None:
        run.series.setdefault(key, []).append((iteration, value))


def _read_csv(run: Run, path: Path) -> None:
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            iteration = _number(row.get("iteration"))
            for key, cell in row.items():
                if key not in ("iteration", "step", "epoch"):
                    _add_point(run, key, iteration, _number(cell))


def _read_eval_jsonl(run: Run, path: Path) -> None:
    """The evaluation callback's records replace the copies the loggers hold."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for name in {name for r in records for name in r["scores"]}:
        run.series.pop(f"eval/{name}", None)
    for record in records:
        for name, score in record["scores"].items():
            _add_point(run, f"eval/{name}", record.get("iteration"), _number(score["value"]))


def load_run(path: str | Path) -> Run:
    """Everything a run folder holds about one run (see the module docstring)."""
    path = Path(path)
    run = Run(path=path)
    if (path / "config.yaml").is_file():
        run.config = flatten(yaml.safe_load((path / "config.yaml").read_text()) or {})
    csv_path = path / "csv" / "metrics.csv"
    if csv_path.is_file():
        _read_csv(run, csv_path)
    if (path / "eval" / "metrics.jsonl").is_file():
        _read_eval_jsonl(run, path / "eval" / "metrics.jsonl")
    for json_path in (path / "checkpoints" / "metrics.json", path / "metrics.json"):
        if json_path.is_file():  # gan-lab eval of the final checkpoint: the reported numbers
            scores = json.loads(json_path.read_text())["scores"]
            run.final.update({f"eval/{k}": float(v["value"]) for k, v in scores.items()})
    if not run.config and not run.final:
        raise ValueError(f"{path}: no config.yaml, metrics or W&B run found")
    return run


def find_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Run folders in ``paths``: each path itself when it is a run (holds ``config.yaml``), else
    every run found below it."""
    found: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"compare: no such run folder: {p}")
        if (p / "config.yaml").is_file():
            found.append(p)
            continue
        below = sorted(c.parent for c in p.rglob("config.yaml") if ".hydra" not in c.parts)
        if not below:
            raise ValueError(f"compare: no runs under {p} (no config.yaml)")
        found.extend(below)
    return list(dict.fromkeys(found))


def differing_keys(runs: Sequence[Run]) -> list[str]:
    """Config keys whose values are not the same in every run (ignoring bookkeeping keys)."""
    keys = sorted({k for r in runs for k in r.config})
    out = []
    for key in keys:
        if key in IGNORED_KEYS or key.startswith(IGNORED_PREFIXES):
            continue
        values = {json.dumps(r.config.get(key), sort_keys=True, default=str) for r in runs}
        if len(values) > 1:
            out.append(key)
    return out


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (sample standard deviation / √n; NaN for n = 1).
    An infinite value (the reverse KL of a run with no good sample) makes both infinite/NaN."""
    n = len(values)
    mean = math.fsum(values) / n
    if n == 1 or not math.isfinite(mean):
        return mean, math.nan
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n)


@dataclass
class Row:
    """One configuration: its differing config values and metrics over its seeds."""

    settings: dict[str, Any]
    runs: list[Run]
    metrics: dict[str, tuple[float, float, int]]  # name -> (mean, se, n runs with it)


def compare(
    runs: Sequence[Run], metrics: Sequence[str] | None = None
) -> tuple[list[str], list[str], list[Row]]:
    """Group ``runs`` by configuration (seeds pooled) and aggregate their final ``metrics``.

    ``metrics`` defaults to every ``eval/*`` metric any run has, else the final losses.
    Returns (differing config keys without the seed, metric names, rows).
    """
    keys = [k for k in differing_keys(runs) if k != SEED_KEY]
    if metrics is None:
        names = sorted({m for r in runs for m in r.final})
        metrics = [m for m in names if m.startswith("eval/")] or [
            m for m in names if m.startswith("loss/")
        ]
    rows: dict[str, Row] = {}
    for run in runs:
        settings = {k: run.config.get(k) for k in keys}
        group = json.dumps(settings, sort_keys=True, default=str)
        rows.setdefault(group, Row(settings, [], {})).runs.append(run)
    for row in rows.values():
        for name in metrics:
            values = [r.final[name] for r in row.runs if name in r.final]
            if values:
                mean, se = mean_se(values)
                row.metrics[name] = (mean, se, len(values))
    return keys, list(metrics), list(rows.values())


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def format_table(keys: Sequence[str], metrics: Sequence[str], rows: Sequence[Row]) -> str:
    """A plain-text table: differing config values, number of seeds, metric mean ± SE."""
    header = [*keys, "seeds", *metrics]
    lines = []
    for row in rows:
        seeds = sorted({r.config.get(SEED_KEY) for r in row.runs}, key=str)
        cells = [_cell(row.settings[k]) for k in keys]
        cells.append(str(len(row.runs)) if None in seeds else ",".join(map(str, seeds)))
        for name in metrics:
            if name not in row.metrics:
                cells.append("-")
                continue
            mean, se, n = row.metrics[name]
            cell = f"{mean:.4g}" if n == 1 else f"{mean:.4g} ± {se:.2g}"
            if n < len(row.runs):  # some runs (e.g. still training) lack this metric
                cell += f" ({n} of {len(row.runs)} runs)"
            cells.append(cell)
        lines.append(cells)
    if not keys:
        header.insert(0, "run")
        for cells, row in zip(lines, rows, strict=True):
            cells.insert(0, row.runs[0].label)
    return text_table(header, lines)


def plot_metric(runs: Sequence[Run], metric: str, out: str | Path) -> Path:
    """A PNG of ``metric`` against iterations, one line per run (one colour per configuration,
    labelled with its differing config values)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_metric = [r for r in runs if r.series.get(metric)]
    if not with_metric:
        available = sorted({m for r in runs for m in r.series})
        raise ValueError(f"compare --plot: no run logged {metric!r} over iterations; "
                         f"logged: {available}")
    keys = [k for k in differing_keys(with_metric) if k != SEED_KEY]
    colors: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for run in with_metric:
        label = ", ".join(f"{k}={run.config.get(k)}" for k in keys) or run.label
        first = label not in colors
        color = colors.setdefault(label, f"C{len(colors) % 10}")
        xs, ys = zip(*sorted(run.series[metric]), strict=True)
        ax.plot(xs, ys, color=color, alpha=0.8, label=label if first else None)
    ax.set_xlabel("iteration")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out


def main(argv: Sequence[str]) -> None:
    """``gan-lab compare PATH... [--metrics m1,m2] [--plot METRIC] [--out FILE.png]``."""
    parser = argparse.ArgumentParser(
        prog="gan-lab compare",
        description="Compare run folders: the config values that differ and the final metrics "
        "(seeds of one configuration as mean ± standard error).",
    )
    parser.add_argument("paths", nargs="+", help="run folders, or folders holding runs")
    parser.add_argument("--metrics", help="comma-separated metric names (default: eval/*)")
    parser.add_argument("--plot", metavar="METRIC", help="write a PNG of METRIC over iterations")
    parser.add_argument("--out", default=None, help="the PNG path (default: compare_<metric>.png)")
    args = parser.parse_args(list(argv))
    runs = [load_run(p) for p in find_runs(args.paths)]
    metrics = args.metrics.split(",") if args.metrics else None
    print(format_table(*compare(runs, metrics)))
    if args.plot:
        out = args.out or f"compare_{args.plot.replace('/', '_')}.png"
        print(f"wrote {plot_metric(runs, args.plot, out)}")
