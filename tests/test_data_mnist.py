import gzip
import hashlib
import json
import shutil

import numpy as np
import pytest
import torch

from gan_lab.data import MNISTDataModule, load_mnist, read_idx
from gan_lab.data import mnist as mnist_mod

ASSET_SHA256 = "29f7e412a2d57447c339a8f5d6f3240bf5917b436b5717d9d749fe43ab28592d"
CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
VAL_COUNTS = [c // 10 for c in CLASS_COUNTS]  # 100, 112, 99, 103, 98, 86, 101, 107, 94, 97


def test_asset_checksum_provenance_and_class_counts():
    data = mnist_mod.ASSET_NPZ.read_bytes()
    assert hashlib.sha256(data).hexdigest() == ASSET_SHA256
    meta = json.loads(mnist_mod.ASSET_JSON.read_text())
    assert meta["sha256"] == ASSET_SHA256
    assert meta["class_counts"] == CLASS_COUNTS
    assert "Juan Cazala" in meta["source"]["author"]
    assert "Yann LeCun" in meta["original_data"]["authors"]
    assert len(data) < 3 * 2**20
    images, labels = load_mnist("all")
    assert images.shape == (10_000, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64
    assert torch.bincount(labels, minlength=10).tolist() == CLASS_COUNTS
    assert images.max() == 255 and images.min() == 0


def test_train_val_disjoint_class_balanced_and_cover_all():
    xt, yt = load_mnist("train")
    xv, yv = load_mnist("val")
    assert torch.bincount(yv, minlength=10).tolist() == VAL_COUNTS
    assert torch.bincount(yt, minlength=10).tolist() == [
        c - v for c, v in zip(CLASS_COUNTS, VAL_COUNTS, strict=True)
    ]
    # disjoint as images (the asset holds no duplicate digits)
    train_rows = {bytes(r) for r in xt.reshape(len(xt), -1).numpy()}
    val_rows = {bytes(r) for r in xv.reshape(len(xv), -1).numpy()}
    assert len(train_rows) == len(xt) and not train_rows & val_rows
    xa, _ = load_mnist("all")
    assert {bytes(r) for r in xa.reshape(len(xa), -1).numpy()} == train_rows | val_rows
    # deterministic
    assert torch.equal(load_mnist("val")[0], xv)


def test_tampered_asset_is_rejected_naming_the_file(tmp_path, monkeypatch):
    npz = tmp_path / "mnist.npz"
    shutil.copy(mnist_mod.ASSET_NPZ, npz)
    with open(npz, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    monkeypatch.setattr(mnist_mod, "ASSET_NPZ", npz)
    with pytest.raises(RuntimeError, match="mnist.npz"):
        load_mnist("train")


def test_bad_split_is_rejected():
    with pytest.raises(ValueError, match="test"):
        load_mnist("test")


def write_idx(path, arr, gz):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)


@pytest.fixture
def idx_root(tmp_path):
    rng = np.random.default_rng(0)
    sets = {
        "train": (rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12)),
        "t10k": (rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5)),
    }
    # the train files gzipped, the t10k files plain
    for prefix, (x, y) in sets.items():
        gz = prefix == "train"
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", x, gz)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", y, gz)
    return tmp_path, sets


def test_idx_reader_plain_and_gz(idx_root):
    root, sets = idx_root
    assert np.array_equal(read_idx(root / "train-images-idx3-ubyte.gz"), sets["train"][0])
    for split, key in [("train", "train"), ("val", "t10k")]:
        x, y = load_mnist(split, root=str(root))
        assert x.dtype == torch.uint8 and y.dtype == torch.int64
        assert np.array_equal(x.numpy(), sets[key][0])
        assert np.array_equal(y.numpy(), sets[key][1])
    x, y = load_mnist("all", root=str(root))
    assert len(x) == 17 and np.array_equal(y.numpy()[12:], sets["t10k"][1])


def test_missing_idx_file_error_names_it_and_the_expected_files(idx_root):
    root, _ = idx_root
    (root / "t10k-labels-idx1-ubyte").unlink()
    load_mnist("train", root=str(root))  # train files are all there
    with pytest.raises(FileNotFoundError) as err:
        load_mnist("val", root=str(root))
    msg = str(err.value)
    assert str(root / "t10k-labels-idx1-ubyte") in msg
    assert "train-images-idx3-ubyte" in msg and ".gz" in msg


def test_corrupt_idx_header_is_rejected(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
        read_idx(p)


@pytest.mark.parametrize("resolution", [28, 32, 64])
def test_datamodule_batches(resolution):
    dm = MNISTDataModule(split="val", resolution=resolution, batch_size=32)
    assert dm.spec.shape == (1, resolution, resolution) and dm.spec.num_classes == 10
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert loader.batch_sampler.per_pass == sum(VAL_COUNTS) // 32  # full batches per pass
    x, y = next(iter(loader))
    assert x.shape == (32, 1, resolution, resolution) and x.dtype == torch.float32
    assert y.shape == (32,) and y.dtype == torch.int64
    assert x.min() >= -1 and x.max() <= 1
    assert x.min() == -1  # background is black
    assert x.max() > 0.9  # strokes are (near) white after resizing
    # shuffled, seeded
    y2 = next(
        iter(MNISTDataModule(split="val", resolution=resolution, batch_size=32).train_dataloader())
    )[1]
    assert torch.equal(y, y2) and len(set(y.tolist())) > 3


def test_datamodule_28_matches_load_mnist_exactly():
    dm = MNISTDataModule(split="val")
    dm.setup()
    xv, yv = load_mnist("val")
    assert torch.equal(dm.images[:, 0], xv) and torch.equal(dm.labels, yv)
    images = dm.images
    dm.setup("validate")  # Lightning calls setup once per stage: load only once
    assert dm.images is images


def test_datamodule_rejects_bad_resolution_and_unknown_key():
    with pytest.raises(ValueError, match="48"):
        MNISTDataModule(resolution=48)
    with pytest.raises(TypeError, match="resoluton"):
        MNISTDataModule(resoluton=32)
