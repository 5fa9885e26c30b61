"""Train gan_lab's domain feature networks once and write the weights the package ships.

Usage::

    python scripts/build_feature_weights.py mnistnet
    python scripts/build_feature_weights.py mmnistnet

Each network is trained with its default recipe (``MNISTNetRecipe()``,
``MovingMNISTNetRecipe()``: the recipes of ``conf/features/``) on one CPU thread, so that the
run is deterministic for a given torch build. The result goes to
``gan_lab/metrics/features/weights/<name>.pt`` (``{"state_dict", "meta"}``, loadable with
``torch.load(weights_only=True)``) beside ``<name>.json``: the file's sha256, the weights'
:func:`~gan_lab.metrics.features.base.state_sha256` (the hash every protocol card names), the
recipe, the held-out accuracies, the commit, torch and Python versions, the thread count and
the training time. Metrics load these files; nothing is retrained on a user's machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from gan_lab.metrics.features.base import file_sha256
from gan_lab.metrics.features.mnist import MNISTNetRecipe
from gan_lab.metrics.features.moving_mnist import MovingMNISTNetRecipe
from gan_lab.metrics.features.shipped import WEIGHTS_DIR

RECIPES = {"mnistnet": MNISTNetRecipe, "mmnistnet": MovingMNISTNetRecipe}


def git_commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                             capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def build(name: str, out_dir: Path) -> dict:
    torch.set_num_threads(1)
    recipe = RECIPES[name]()
    net = recipe.train()
    path = out_dir / f"{name}.pt"
    net.save(path)
    record = {
        "name": name,
        "file": path.name,
        "file_sha256": file_sha256(path),
        "file_bytes": path.stat().st_size,
        "weights_sha256": net.sha256,
        "recipe": asdict(recipe),
        "held_out": {k: v for k, v in net.meta.items() if k.startswith("val_")},
        "train_seconds": net.meta.get("train_seconds"),
        "trained_with": {
            "commit": git_commit(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "torch_threads": torch.get_num_threads(),
        },
        "command": f"python scripts/build_feature_weights.py {name}",
    }
    (out_dir / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(RECIPES))
    parser.add_argument("--out-dir", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(build(args.name, args.out_dir), indent=2))


if __name__ == "__main__":
    sys.exit(main())
