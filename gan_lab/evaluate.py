"""``gan-lab eval``: metrics of a checkpoint, as a table and a ``metrics.json`` with protocol
cards."""

from __future__ import annotations

from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_lab.build import load_checkpoint
from gan_lab.metrics.evaluation import EvalContext, Score, run_evaluators, write_metrics_json
from gan_lab.modules.base import GANModule
from gan_lab.text import format_table as text_table


def evaluate(cfg: DictConfig) -> tuple[list[Score], Path]:
    """Run ``cfg.metrics`` on checkpoint ``cfg.ckpt``; returns the scores and the JSON path.

    The data set is rebuilt from the checkpoint's stored config, so real statistics are those
    of the data the model was trained on (and are shared with evaluation during training
    through the cache); ``cfg.split`` (e.g. ``val``) takes another split of that data set.
    """
    if not cfg.metrics:
        raise ValueError("no metrics selected: add e.g. metrics=[fid_mnistnet] (see conf/metrics/)")
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    module = load_checkpoint(cfg.ckpt, map_location=device, trust=cfg.trust_checkpoint).to(device)
    evaluators = instantiate(cfg.metrics, _convert_="all")
    ctx = eval_context(module, cfg)
    scores = run_evaluators(evaluators, ctx)
    ckpt = Path(cfg.ckpt)
    out = Path(cfg.out) if cfg.out else ckpt.parent / "metrics.json"
    path = write_metrics_json(
        scores, out, checkpoint=str(ckpt.resolve()), iteration=module.iteration,
        run=module.run_config.get("name"), data_split=ctx.data_config.get("split"),
    )
    return scores, path


def eval_context(module: GANModule, cfg: DictConfig) -> EvalContext:
    """The protocol of ``gan-lab eval`` (``cfg``: conf/eval.yaml) for ``module``: its data set
    rebuilt from its stored config, in ``cfg.split`` when given."""
    data_config = dict(module.run_config["data"])
    if cfg.split is not None:
        if "split" not in data_config:
            raise ValueError(
                f"split={cfg.split}: the run's data set ({data_config.get('_target_')}) has no "
                "splits; leave split=null"
            )
        data_config["split"] = cfg.split
    return EvalContext(
        module=module,
        datamodule=instantiate(OmegaConf.create(data_config), _convert_="all"),
        data_config=data_config,
        ema=cfg.ema,
        seed=cfg.seed,
        cache_dir=cfg.cache_dir,
        batch_size=cfg.batch_size,
    )


def format_table(scores: list[Score]) -> str:
    """A plain-text table: metric, value, feature network, n_real, n_fake, EMA, iteration."""
    header = ("metric", "value", "network", "n_real", "n_fake", "ema", "iteration", "seed")
    rows = [
        (s.name, f"{s.value:.6g}", s.card.get("feature_network") or "-",
         _dash(s.card.get("n_real")), _dash(s.card.get("n_fake")), str(s.card["ema"]).lower(),
         str(s.card["iteration"]), str(s.card["seed"]))
        for s in scores
    ]
    return text_table(header, rows)


def _dash(value) -> str:
    return "-" if value is None else str(value)
