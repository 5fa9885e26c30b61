"""``gan-lab compare`` on run folders made by tiny real runs."""

from __future__ import annotations

import json
import math
import statistics

import pytest
from PIL import Image

from gan_lab.cli import main as cli_main
from gan_lab.compare import compare, find_runs, format_table, load_run, mean_se, plot_metric
from gan_lab.train import train
from tests.helpers import compose_train

EVAL = ["metrics=[toy_modes]", "callbacks.evaluation.every=1", "callbacks.evaluation.ema=false"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two configurations (D learning rates) x two seeds, CSV logger, toy modes every iteration."""
    root = tmp_path_factory.mktemp("sweep")
    for lr in (0.1, 0.05):
        for seed in (0, 1):
            cfg = compose_train(
                ["model=gan", "data=grid25", "iterations=3", f"seed={seed}",
                 f"model.d_optimizer.lr={lr}", *EVAL],
                root / f"lr{lr}_s{seed}",
            )
            train(cfg)
    return root


def final_modes(run_dir):
    last = (run_dir / "eval" / "metrics.jsonl").read_text().splitlines()[-1]
    return json.loads(last)["scores"]["modes"]["value"]


def test_seeds_of_a_configuration_are_pooled_as_mean_and_standard_error(sweep):
    runs = [load_run(p) for p in find_runs([sweep])]
    assert len(runs) == 4
    keys, metrics, rows = compare(runs)
    assert keys == ["model.d_optimizer.lr"]
    assert metrics == ["eval/high_quality", "eval/modes", "eval/reverse_kl"]
    assert len(rows) == 2
    for row in rows:
        lr = row.settings["model.d_optimizer.lr"]
        values = [final_modes(sweep / f"lr{lr}_s{s}") for s in (0, 1)]
        mean, se, n = row.metrics["eval/modes"]
        assert n == 2 and mean == pytest.approx(statistics.fmean(values))
        assert se == pytest.approx(statistics.stdev(values) / math.sqrt(2))
    table = format_table(keys, metrics, rows)
    assert table.splitlines()[0].split() == [
        "model.d_optimizer.lr", "seeds", "eval/high_quality", "eval/modes", "eval/reverse_kl"]
    assert "0.05" in table and "0,1" in table


def test_series_come_from_the_csv_log_and_plot_to_png(sweep, tmp_path):
    run = load_run(sweep / "lr0.1_s0")
    assert [it for it, _ in run.series["loss/d"]] == [1, 2, 3]
    assert [it for it, _ in run.series["eval/modes"]] == [1, 2, 3]
    out = plot_metric([load_run(p) for p in find_runs([sweep])], "loss/d", tmp_path / "p.png")
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width > 300
    with pytest.raises(ValueError, match="no run logged 'nope'"):
        plot_metric([run], "nope", tmp_path / "q.png")


def test_gan_lab_eval_metrics_json_is_the_reported_final_value(sweep, tmp_path):
    src = sweep / "lr0.1_s0"
    cli_main(["eval", f"ckpt={src / 'checkpoints' / 'last.ckpt'}", "metrics=[toy_modes]",
              "ema=false", "metrics.toy_modes.n_fake=100"])
    reported = json.loads((src / "checkpoints" / "metrics.json").read_text())["scores"]
    run = load_run(src)
    assert run.final["eval/high_quality"] == reported["high_quality"]["value"]
    (src / "checkpoints" / "metrics.json").unlink()


def test_a_run_logged_to_wandb_alone_is_compared_from_gan_labs_own_log(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb_home"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb_home"))
    run_dir = tmp_path / "run"
    train(compose_train(["model=gan", "data=ring8", "logger=wandb", "iterations=3"], run_dir))
    assert (run_dir / "wandb").is_dir() and (run_dir / "csv" / "metrics.csv").is_file()
    run = load_run(run_dir)
    assert [it for it, _ in run.series["loss/g"]] == [1, 2, 3]
    assert run.config["model._target_"] == "gan_lab.modules.ImageGAN"


def test_command_line_prints_the_table_and_writes_the_plot(sweep, tmp_path, capsys):
    out = tmp_path / "modes.png"
    cli_main(["compare", str(sweep / "lr0.1_s0"), str(sweep / "lr0.1_s1"), "--plot",
              "eval/modes", "--out", str(out), "--metrics", "eval/modes,loss/d"])
    printed = capsys.readouterr().out
    header = printed.splitlines()[0].split()
    assert header == ["run", "seeds", "eval/modes", "loss/d"]  # nothing differs but the seed
    assert "±" in printed and out.is_file()


def test_bad_paths_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        find_runs([tmp_path / "missing"])
    with pytest.raises(ValueError, match="no runs under"):
        find_runs([tmp_path])


def test_mean_se():
    assert mean_se([1.0, 3.0]) == (2.0, pytest.approx(1.0))
    mean, se = mean_se([5.0])
    assert mean == 5.0 and math.isnan(se)


def test_a_run_without_the_metric_is_pointed_out(tmp_path):
    from gan_lab.compare import Run

    runs = [Run(tmp_path / "a", {"seed": 0, "lr": 1}, {"eval/modes": 7.0}),
            Run(tmp_path / "b", {"seed": 1, "lr": 1}, {})]
    table = format_table(*compare(runs, ["eval/modes"]))
    assert "7 (1 of 2 runs)" in table and "0,1" in table
