"""The Hydra application of ``gan-lab train`` and where gan_lab's configs live.

This module is light on purpose (Hydra and OmegaConf, no torch, no Lightning): ``gan-lab
--help``, ``gan-lab train --help`` and ``gan-lab train --cfg job`` compose the configs without
importing either; the task function imports :mod:`gan_lab.train` when a run starts.
"""

from __future__ import annotations

import gc
import secrets
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from gan_lab.schema import register as register_schema


def _conf_dir() -> Path:
    """``gan_lab/conf`` in an installed wheel (setuptools maps the repository's top-level
    ``conf/`` there); ``<repository>/conf`` in a source checkout, which is also what an editable
    install runs from."""
    package = Path(__file__).resolve().parent
    installed = package / "conf"
    return installed if (installed / "train.yaml").is_file() else package.parent / "conf"


#: Drawn once per process: ``${run_id:}`` in a run folder's name keeps apart two runs started
#: in the same second (conf/hydra/default.yaml).
RUN_ID = secrets.token_hex(2)
OmegaConf.register_new_resolver("run_id", lambda: RUN_ID, replace=True)
#: ``${mul:a,b}``: a product in a config (PacGAN's batch of 100 packs: ``${mul:100,${m}}``).
OmegaConf.register_new_resolver("mul", lambda a, b: a * b, replace=True)
register_schema()

#: The primary config folder of every ``gan-lab`` command (``train.yaml``, ``sample.yaml``, ...).
#: Users add their own presets with ``--config-dir`` or ``hydra.searchpath`` (see the README).
CONF_DIR = str(_conf_dir())


@hydra.main(config_path=CONF_DIR, config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """``gan-lab train``: runs :func:`gan_lab.train.run` (imported here, so that Hydra's
    ``--help`` and ``--cfg`` never import torch or Lightning)."""
    from gan_lab.train import run

    # The ~400,000 objects that importing torch and Lightning leaves live as long as the process:
    # moved out of the collector's sight, they cost nothing in the run's full collections nor
    # in the interpreter's shutdown, which otherwise spends ~2 s traversing them. Objects the
    # run creates from here on (files, loggers, workers) are collected as usual. Once per
    # process: the later jobs of a multirun must not freeze the garbage of the earlier ones.
    if gc.get_freeze_count() == 0:
        gc.freeze()
    return run(cfg)
