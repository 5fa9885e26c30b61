"""Stacked MNIST: the data set and its mode-coverage metric on samples with known answers."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lab.data import StackedMNISTDataModule, load_mnist
from gan_lab.metrics import EvalContext, ModeHistogram, StackedMNISTModes, kl_to_uniform
from gan_lab.metrics.features import mnistnet
from gan_lab.metrics.modes import stacked_mnist_mode
from gan_lab.train import train
from tests.helpers import FixedSamples, compose_train


def test_stacked_samples_hold_three_digits_and_their_mode_label():
    dm = StackedMNISTDataModule(num_samples=500)
    dm.setup()
    x, y = dm.dataset.images, dm.dataset.labels
    assert x.shape == (500, 3, 28, 28) and dm.spec.num_classes == 1000
    digits, labels = load_mnist("train")
    # every channel is one of the shipped digits, and the label spells the three digits
    for i in range(5):
        for c, d in enumerate((y[i] // 100, y[i] // 10 % 10, y[i] % 10)):
            match = (digits == x[i, c]).flatten(1).all(1)
            assert match.any() and (labels[match] == d).all()
    again = StackedMNISTDataModule(num_samples=500, seed=7)
    again.setup()
    assert torch.equal(again.dataset.images, x)  # compose_seed fixes the data set


def test_mode_counting_on_constructed_labels():
    all_modes = torch.arange(1000).repeat(3)
    digits = torch.stack([all_modes // 100, all_modes // 10 % 10, all_modes % 10], 1)
    assert torch.equal(stacked_mnist_mode(digits), all_modes)
    hist = ModeHistogram(1000)
    hist.update(all_modes)
    counts = hist.compute()
    assert int((counts > 0).sum()) == 1000 and kl_to_uniform(counts) == pytest.approx(0.0)
    single = ModeHistogram(1000)
    single.update(torch.full((50,), 123))
    assert kl_to_uniform(single.compute()) == pytest.approx(math.log(1000))


def test_the_data_itself_covers_all_modes_with_small_kl(feature_cache):
    dm = StackedMNISTDataModule(num_samples=10000, compose_seed=3)
    dm.setup()
    x = dm.dataset.images.float() / 127.5 - 1
    ctx = EvalContext(module=FixedSamples(x, dm.spec), datamodule=dm, data_config={},
                      cache_dir=str(feature_cache))
    modes, kl = StackedMNISTModes(mnistnet, n_fake=10000)(ctx)
    # 10 samples per mode on average: every mode occurs; mnistnet's ~1.6% errors barely move it
    assert modes.value >= 998 and kl.value < 0.15
    assert modes.card["classifier"] == "mnistnet" and modes.card["n_fake"] == 10000
    true_counts = torch.bincount(dm.dataset.labels, minlength=1000)
    assert kl.value == pytest.approx(kl_to_uniform(true_counts), abs=0.05)


def test_dcgan_trains_on_stacked_mnist_and_reports_modes(feature_cache, tmp_path):
    cfg = compose_train(
        ["model=dcgan", "data=stacked_mnist", "data.batch_size=16", "data.num_samples=256",
         "metrics=[stacked_mnist]", "metrics.stacked_mnist.n_fake=300",
         f"paths.cache_dir={feature_cache}"],
        tmp_path,
    )
    metrics = train(cfg)
    modes, kl = metrics["eval/modes"], metrics["eval/kl"]
    assert 1 <= modes <= 300
    assert kl >= math.log(1000 / modes) - 1e-9  # KL to uniform of a histogram on `modes` bins
