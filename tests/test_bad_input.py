"""Bad input, one row per case: what a user gives, and what the error must say (the culprit's
key or path, and what to do). Images that are unusual but valid are converted correctly.

Each case is a function that must raise; ``CASES`` pairs it with a pattern its message must
match. A reader can scan the table to see what gan_lab says when it is given each of these.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lab.cli import compose
from gan_lab.data import ImageFolderDataModule
from gan_lab.evaluate import evaluate
from gan_lab.sample import sample
from gan_lab.train import train
from tests.helpers import compose_train


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    """A real 2-iteration checkpoint (2-D data)."""
    out = tmp_path_factory.mktemp("run")
    train(compose_train(["model=gan", "data=grid25"], out))
    return out / "checkpoints" / "last.ckpt"


def run(t: Path, overrides: list[str]) -> None:
    train(compose_train(overrides, t / "run"))


def compose_train_only(overrides: list[str]) -> None:
    compose("train", overrides)


def sample_with(t: Path, *overrides: str) -> None:
    sample(compose("sample", [f"out={t / 's.npy'}", *overrides]))


def eval_with(*overrides: str) -> None:
    evaluate(compose("eval", list(overrides)))


def image_folder(t: Path, make: Callable[[Path], None], **kwargs) -> ImageFolderDataModule:
    root = t / "images"
    root.mkdir(exist_ok=True)
    make(root)
    dm = ImageFolderDataModule(root=str(root), batch_size=1, **kwargs)
    dm.setup()
    return dm


def file_with(t: Path, content: bytes) -> str:
    path = t / "bad.ckpt"
    path.write_bytes(content)
    return str(path)


def typo_in_experiment_file(t: Path) -> None:
    folder = t / "conf" / "experiment"
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_text("# @package _global_\niteratons: 5\n")
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from gan_lab.train import CONF_DIR

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        hydra_compose("train", overrides=["experiment=mine",
                                          f"hydra.searchpath=[file://{t / 'conf'}]"])


def symlink_loop_root(t: Path) -> None:
    loop = t / "loop"
    loop.symlink_to(loop)
    ImageFolderDataModule(root=str(loop))


def empty_folder(t: Path) -> None:
    (t / "empty").mkdir()
    dm = ImageFolderDataModule(root=str(t / "empty"), batch_size=1)
    dm.setup()


# (case, what is done, pattern the error message must match)
CASES: list[tuple[str, Callable[[Path, Path], object], str]] = [
    ("iterations=0", lambda t, c: run(t, ["model=gan", "data=grid25", "iterations=0"]),
     r"iterations must be >= 1"),
    ("iterations=-5", lambda t, c: run(t, ["model=gan", "data=grid25", "iterations=-5"]),
     r"iterations must be >= 1.*-5"),
    ("seed=abc", lambda t, c: compose_train_only(["seed=abc"]), r"seed=abc"),
    ("iterations=abc", lambda t, c: compose_train_only(["iterations=abc"]), r"iterations=abc"),
    ("a misspelt root key in an experiment file", lambda t, c: typo_in_experiment_file(t),
     r"Key 'iteratons' not in"),
    ("a misspelt model key", lambda t, c: compose_train_only(["model.n_critc=5"]), r"n_critc"),
    ("an unknown preset", lambda t, c: compose_train_only(["model=dcgam"]),
     r"Could not find 'model/dcgam'(.|\n)*\tdcgan"),
    ("torch_threads=0", lambda t, c: run(t, ["model=gan", "data=grid25", "torch_threads=0"]),
     r"torch_threads must be >= 1"),
    ("data.batch_size=0", lambda t, c: run(t, ["model=gan", "data=grid25", "data.batch_size=0"]),
     r"data.batch_size must be >= 1"),
    ("data.num_workers=-1", lambda t, c: run(t, ["model=dcgan", "data=mnist",
                                                "data.num_workers=-1"]),
     r"data.num_workers must be >= 0"),
    ("model.n_critic=0", lambda t, c: run(t, ["model=wgan", "data=grid25", "model.n_critic=0"]),
     r"model.n_critic must be >= 1"),
    ("model.ema_decay=1.5",
     lambda t, c: run(t, ["model=gan", "data=grid25", "+model.ema_decay=1.5"]),
     r"model.ema_decay must be in \[0, 1\)"),
    ("a batch that packs unevenly",
     lambda t, c: run(t, ["model=pacgan", "data=grid25", "model.packing=3",
                          "data.batch_size=100"]),
     r"data.batch_size=100 must be divisible by model.packing=3"),
    ("DiffAugment on 2-D points",
     lambda t, c: run(t, ["model=gan", "data=grid25", "augment=diffaugment"]), r"augment=none"),
    ("a discriminator named like an nn.Module attribute",
     lambda t, c: run(t, ["model=mocogan_micro", "data=moving_mnist",
                          "+net.discriminators.half=1"]),
     r"net.discriminators.half: 'half' cannot name a discriminator.*rename the key"),
    ("an image model on clips", lambda t, c: run(t, ["model=dcgan", "data=moving_mnist"]),
     r"\(1, 16, 64, 64\)|\(1, 20, 64, 64\)"),
    ("R1 with a BatchNorm discriminator",
     lambda t, c: run(t, ["model=dcgan", "data=mnist", "regularizer=r1"]),
     r"BatchNorm at '.*'.*d_norm=none for the DCGAN"),
    ("callbacks.checkpoint.every=0",
     lambda t, c: run(t, ["model=gan", "data=grid25", "callbacks.checkpoint.every=0"]),
     r"callbacks.checkpoint.every must be >= 1"),
    ("regularizer.samples=middle",
     lambda t, c: run(t, ["model=r3gan", "data=mnist", "regularizer.samples=middle"]),
     r"regularizer.samples must be one of"),
    ("resume from a folder",
     lambda t, c: run(t, ["model=gan", "data=grid25", f"resume={c.parent}"]), r"is a folder"),
    ("resume from a missing file",
     lambda t, c: run(t, ["model=gan", "data=grid25", f"resume={t / 'nope.ckpt'}"]),
     r"checkpoint not found: .*nope.ckpt"),
    ("sample n=0", lambda t, c: sample_with(t, f"ckpt={c}", "n=0"), r"n must be >= 1"),
    ("sample to an unknown format", lambda t, c: sample(compose(
        "sample", [f"ckpt={c}", f"out={t / 's.jpg'}"])), r"out=.*s.jpg.*suffix"),
    ("sample ckpt=<a folder>", lambda t, c: sample_with(t, f"ckpt={c.parent.parent}"),
     r"is a folder, not a file.*last.ckpt"),
    ("sample ckpt=<missing>", lambda t, c: sample_with(t, f"ckpt={t / 'gone.ckpt'}"),
     r"checkpoint not found: .*gone.ckpt"),
    ("a zero-byte checkpoint", lambda t, c: sample_with(t, f"ckpt={file_with(t, b'')}"),
     r"bad.ckpt is empty \(0 bytes\)"),
    ("a truncated checkpoint", lambda t, c: sample_with(t, 
        f"ckpt={file_with(t, c.read_bytes()[: c.stat().st_size // 2])}"),
     r"bad.ckpt is not a readable checkpoint: truncated or corrupt"),
    ("a file of random bytes", lambda t, c: sample_with(t, 
        f"ckpt={file_with(t, np.random.default_rng(0).bytes(4096))}"),
     r"bad.ckpt is not a readable checkpoint"),
    ("a checkpoint of another program", lambda t, c: (
        torch.save({"weight": torch.zeros(2)}, t / "other.ckpt"),
        sample_with(t, f"ckpt={t / 'other.ckpt'}")),
     r"other.ckpt is not a gan_lab checkpoint"),
    ("eval with no metrics", lambda t, c: eval_with(f"ckpt={c}"), r"no metrics selected"),
    ("eval split=val of data without splits",
     lambda t, c: eval_with(f"ckpt={c}", "metrics=[toy_modes]", "split=val"), r"has no splits"),
    ("an image folder that does not exist",
     lambda t, c: ImageFolderDataModule(root=str(t / "missing")), r"missing \(data.root\)"),
    ("an image folder that is a symbolic link loop", lambda t, c: symlink_loop_root(t),
     r"leads nowhere"),
    ("an image folder without images", lambda t, c: empty_folder(t),
     r"no readable images .*/empty"),
]


@pytest.mark.parametrize("case, action, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_with_a_clear_message(case, action, message, tmp_path, ckpt):
    with pytest.raises(Exception) as err:  # noqa: B017  (the message is what is checked)
        action(tmp_path, ckpt)
    assert re.search(message, str(err.value)), f"{case}: {err.value}"


# ---------------------------------------------------------- unusual images, read correctly
def grey(value: int, mode: str = "L", size=(6, 6)) -> Image.Image:
    return Image.fromarray(np.full(size[::-1], value, dtype=np.uint8), mode)


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    def make(root):
        Image.fromarray(np.full((6, 6), 32768, np.uint16)).save(root / "a.png")  # I;16 half
    dm = image_folder(tmp_path, make, channels=1, resolution=6)
    assert dm.dataset.images.unique().tolist() == [128]  # 32768 / 65535 * 255, not 255


def test_rgba_is_composited_over_black(tmp_path):
    def make(root):
        rgba = np.zeros((6, 6, 4), np.uint8)
        rgba[..., 0], rgba[..., 3] = 200, 128  # red at half opacity
        Image.fromarray(rgba, "RGBA").save(root / "a.png")
    dm = image_folder(tmp_path, make, channels=3, resolution=6)
    pixel = dm.dataset.images[0, :, 0, 0].tolist()
    assert pixel[1:] == [0, 0] and abs(pixel[0] - 100) <= 1


def test_palette_png_keeps_its_colours(tmp_path):
    def make(root):
        im = Image.new("P", (6, 6))
        im.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
        im.paste(1, (0, 0, 6, 6))
        im.save(root / "a.png")
    dm = image_folder(tmp_path, make, channels=3, resolution=6)
    assert dm.dataset.images[0, :, 3, 3].tolist() == [10, 200, 30]


def test_grey_folder_read_as_rgb_repeats_the_channel(tmp_path):
    def make(root):
        grey(77).save(root / "a.png")
    dm = image_folder(tmp_path, make, channels=3, resolution=6)
    assert dm.spec.shape == (3, 6, 6)
    assert dm.dataset.images.unique().tolist() == [77]


def test_a_symlink_loop_inside_a_folder_is_skipped_with_a_warning(tmp_path):
    def make(root):
        grey(50).save(root / "good.png")
        (root / "a.png").symlink_to(root / "b.png")
        (root / "b.png").symlink_to(root / "a.png")
        (root / "sub").symlink_to(root / "sub")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dm = image_folder(tmp_path, make, channels=1, resolution=6)
    assert len(dm.dataset) == 1
    text = " ".join(str(w.message) for w in caught)
    assert "a.png" in text and "leads nowhere" in text
