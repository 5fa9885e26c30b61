"""The ``gan-lab`` command: ``train``, ``sample``, ``eval``, ``compare``, ``train-features``.

``gan-lab train [overrides]`` is a Hydra application (``-m`` for multiruns, ``--help`` for the
config groups); the other commands take ``key=value`` arguments checked against
``conf/<command>.yaml``, so a misspelt key fails with its name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

USAGE = """usage: gan-lab COMMAND [key=value ...]

commands:
  train    train a model: gan-lab train model=wgan_gp data=grid25 [hydra overrides, -m]
  sample   sample a checkpoint: gan-lab sample ckpt=PATH n=64 out=grid.png [seed=0 ema=true]
  eval     evaluate a checkpoint: gan-lab eval ckpt=PATH metrics=[fid_mnistnet,kid_mnistnet]
  compare  compare run folders: gan-lab compare PATH... [--metrics m1,m2] [--plot METRIC]
  train-features
           train a domain feature network: gan-lab train-features mnistnet|mmnistnet [out=PATH]
"""


def compose(config_name: str, overrides: list[str]):
    """Compose ``conf/<config_name>.yaml`` with command-line overrides (strict keys)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from gan_lab.app import CONF_DIR

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=overrides)


def _train(argv: list[str]) -> None:
    from gan_lab.app import main as train_main

    sys.argv = ["gan-lab train", *argv]
    train_main()


def _sample(argv: list[str]) -> None:
    from gan_lab.sample import sample

    path = sample(compose("sample", argv))
    print(f"wrote {path}")


def _eval(argv: list[str]) -> None:
    from gan_lab.evaluate import evaluate, format_table

    scores, path = evaluate(compose("eval", argv))
    print(format_table(scores))
    print(f"wrote {path}")


def _compare(argv: list[str]) -> None:
    from gan_lab.compare import main as compare_main

    compare_main(argv)


def _train_features(argv: list[str]) -> None:
    from gan_lab.metrics.features.training import train_features

    if not argv or "=" in argv[0]:
        raise SystemExit(
            "usage: gan-lab train-features NAME [key=value ...]  (NAME: mnistnet, mmnistnet)"
        )
    cfg = compose("train_features", [f"features={argv[0]}", *argv[1:]])
    print(train_features(cfg))


COMMANDS: dict[str, Callable[[list[str]], None]] = {
    "train": _train,
    "sample": _sample,
    "eval": _eval,
    "compare": _compare,
    "train-features": _train_features,
}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        raise SystemExit(0 if argv and argv[0] in {"-h", "--help"} else 2)
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
