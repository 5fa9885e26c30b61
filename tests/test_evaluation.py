"""Evaluation during training and `gan-lab eval`: values, protocol cards, cache, best checkpoint."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_lab.build import load_checkpoint
from gan_lab.cli import main as cli_main
from gan_lab.data import Grid25DataModule, load_mnist
from gan_lab.metrics import reference
from gan_lab.metrics.features import mnistnet
from gan_lab.metrics.features.mnist import evaluate_accuracy
from gan_lab.train import train
from tests.helpers import compose_train

CARD_FIELDS = {"metric", "feature_network", "weights_sha256", "n_real", "n_fake", "resize",
               "ema", "iteration", "seed"}


def _independent_toy_modes(points: np.ndarray, centers: np.ndarray, std: float):
    """Modes / high-quality share / reverse KL with plain loops (PacGAN's definition)."""
    counts = np.zeros(len(centers))
    good = 0
    for p in points:
        d = [np.hypot(*(p - c)) for c in centers]
        k = int(np.argmin(d))
        if d[k] <= 3 * std:
            counts[k] += 1
            good += 1
    if good == 0:
        return 0, 0.0, float("inf")
    q = counts / good
    kl = sum(pi * np.log(pi * len(centers)) for pi in q if pi > 0)
    return int((counts > 0).sum()), good / len(points), kl


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy_run")
    cfg = compose_train(
        ["model=wgan_gp", "data=grid25", "metrics=[toy_modes]", "iterations=30",
         "callbacks.evaluation.every=20", "callbacks.evaluation.best=high_quality",
         "model.n_critic=1", f"paths.cache_dir={out / 'cache'}"],
        out,
    )
    return out, train(cfg)


def test_training_logs_toy_modes_that_an_independent_evaluator_reproduces(toy_run):
    out, metrics = toy_run
    for name in ("modes", "high_quality", "reverse_kl"):
        assert f"eval/{name}" in metrics  # the final evaluation reaches sweepers
    module = load_checkpoint(out / "checkpoints" / "last.ckpt")
    assert module.iteration == 30
    points = module.spec.to_data_space(module.sample(2500, ema=True, seed=0)).numpy()
    dm = Grid25DataModule()
    modes, hq, kl = _independent_toy_modes(points, dm.centers.numpy(), dm.std)
    assert metrics["eval/modes"] == modes
    assert metrics["eval/high_quality"] == pytest.approx(hq)
    assert metrics["eval/reverse_kl"] == pytest.approx(kl)


def test_evaluation_runs_every_n_iterations_and_at_the_end_with_cards(toy_run):
    out, _ = toy_run
    lines = [json.loads(x) for x in (out / "eval" / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in lines] == [20, 30]
    card = lines[-1]["scores"]["modes"]
    assert CARD_FIELDS <= set(card) and card["n_fake"] == 2500 and card["ema"] is True
    with open(out / "csv" / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r.get("eval/modes")]
    assert [float(r["iteration"]) for r in rows] == [20.0, 30.0]


def test_best_checkpoint_holds_the_best_value(toy_run):
    out, metrics = toy_run
    lines = [json.loads(x) for x in (out / "eval" / "metrics.jsonl").read_text().splitlines()]
    values = [r["scores"]["high_quality"]["value"] for r in lines]
    best_iteration = [20, 30][int(np.argmax(values))]  # first of equal values wins
    best = load_checkpoint(out / "checkpoints" / "best.ckpt")
    assert best.iteration == best_iteration
    assert metrics["eval/best_high_quality"] == pytest.approx(max(values))


def test_eval_command_reproduces_the_final_values_and_writes_cards(toy_run, tmp_path, capsys):
    out, metrics = toy_run
    target = tmp_path / "metrics.json"
    cli_main(["eval", f"ckpt={out / 'checkpoints' / 'last.ckpt'}", "metrics=[toy_modes]",
              f"out={target}"])
    printed = capsys.readouterr().out
    assert "modes" in printed and "high_quality" in printed and str(target) in printed
    body = json.loads(target.read_text())
    assert body["iteration"] == 30
    for name in ("modes", "high_quality", "reverse_kl"):
        entry = body["scores"][name]
        assert CARD_FIELDS <= set(entry)
        assert entry["value"] == pytest.approx(metrics[f"eval/{name}"])


def test_eval_without_metrics_and_with_a_misspelt_key_fail_clearly(toy_run):
    out, _ = toy_run
    ckpt = out / "checkpoints" / "last.ckpt"
    with pytest.raises(ValueError, match="no metrics selected"):
        cli_main(["eval", f"ckpt={ckpt}"])
    with pytest.raises(Exception, match="n_fak"):
        cli_main(["eval", f"ckpt={ckpt}", "metrics=[toy_modes]", "metrics.toy_modes.n_fak=3"])


def test_toy_modes_refuses_image_data(tmp_path):
    cfg = compose_train(["model=dcgan", "data=mnist", "data.batch_size=8", "metrics=[toy_modes]",
                         "iterations=1"], tmp_path)
    with pytest.raises(ValueError, match="Gaussian-mixture"):
        train(cfg)


def test_mnistnet_reaches_98_percent_on_held_out_digits():
    net = mnistnet()
    accuracy = evaluate_accuracy(net, "val")
    assert accuracy >= 0.98
    assert net.meta["val_accuracy"] == pytest.approx(accuracy)
    assert len(net.sha256) == 64


def _scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2)
                 - 2 * np.trace(scipy.linalg.sqrtm(s1 @ s2).real))


def test_fid_mnistnet_of_a_checkpoint_matches_an_independent_computation(
    feature_cache, tmp_path, monkeypatch
):
    cfg = compose_train(["model=dcgan", "data=mnist", "data.batch_size=16"], tmp_path / "run")
    train(cfg)
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    args = ["eval", f"ckpt={ckpt}", "metrics=[fid_mnistnet,kid_mnistnet]",
            "metrics.fid_mnistnet.n_fake=300", "metrics.fid_mnistnet.n_real=400",
            "metrics.kid_mnistnet.n_fake=300", "metrics.kid_mnistnet.n_real=400",
            "metrics.kid_mnistnet.subset_size=100", "seed=5", f"cache_dir={feature_cache}"]
    cli_main([*args, f"out={tmp_path / 'a.json'}"])
    first = json.loads((tmp_path / "a.json").read_text())["scores"]

    net = mnistnet()
    fid = first["fid_mnistnet"]
    assert fid["feature_network"] == "mnistnet" and fid["weights_sha256"] == net.sha256
    assert (fid["n_real"], fid["n_fake"], fid["seed"], fid["ema"]) == (400, 300, 5, True)
    assert "kid_mnistnet_std" in first and "fid" not in first

    # independent: the same 400 real digits (first of a permutation seeded 5) and 300 samples
    images, _ = load_mnist("train")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(5))[:400]
    real = images[order][:, None].float() / 127.5 - 1
    module = load_checkpoint(ckpt)
    gen = torch.cat(list(_generated(module, 300, seed=5)))
    with torch.no_grad():
        a, b = net(real).double().numpy(), net(gen).double().numpy()
    assert fid["value"] == pytest.approx(_scipy_fid(a, b), rel=1e-5)

    # second run: real features come from the cache, same numbers
    loads = []
    original = reference.load_reference
    monkeypatch.setattr("gan_lab.metrics.scores.load_reference",
                        lambda *a, **k: loads.append(1) or original(*a, **k))
    cli_main([*args, f"out={tmp_path / 'b.json'}"])
    second = json.loads((tmp_path / "b.json").read_text())["scores"]
    assert len(loads) == 2 and len(list((feature_cache / "reference").iterdir())) == 2
    assert second["fid_mnistnet"]["value"] == pytest.approx(fid["value"], rel=1e-9)


def _generated(module, n, seed):
    from gan_lab.metrics.evaluation import EvalContext

    ctx = EvalContext(module=module, datamodule=None, data_config={}, seed=seed)
    return ctx.generated(n)
