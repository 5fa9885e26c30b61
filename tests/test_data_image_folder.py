import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lab.data import DataSpec, ImageFolderDataModule


def save(path, color, size=(40, 30), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format=fmt)


@pytest.fixture
def folder(tmp_path):
    """cats: 3 PNGs (one nested, one .PNG); dogs: 2 JPEGs + a corrupt PNG + a truncated JPEG."""
    root = tmp_path / "imgs"
    save(root / "cats" / "a.png", (255, 0, 0))
    save(root / "cats" / "sub" / "b.png", (255, 0, 0), size=(20, 50))
    save(root / "cats" / "c.PNG", (255, 0, 0), fmt="PNG")
    save(root / "dogs" / "a.jpg", (0, 0, 255), size=(64, 64))
    save(root / "dogs" / "b.jpeg", (0, 0, 255), size=(100, 60))
    (root / "dogs" / "corrupt.png").write_bytes(np.random.default_rng(0).bytes(500))
    big = Image.fromarray(np.random.default_rng(1).integers(0, 256, (80, 80, 3), np.uint8))
    big.save(root / "dogs" / "truncated.jpg", quality=95)
    data = (root / "dogs" / "truncated.jpg").read_bytes()
    (root / "dogs" / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root


def test_labels_from_subfolders_and_corrupt_files_skipped_once(folder):
    dm = ImageFolderDataModule(str(folder), resolution=16, batch_size=2)
    assert dm.classes == ["cats", "dogs"]
    assert dm.spec == DataSpec(shape=(3, 16, 16), num_classes=2)
    with pytest.warns(UserWarning, match="skipped 2 unreadable") as rec:
        dm.setup("fit")
    assert len([w for w in rec if "skipped" in str(w.message)]) == 1
    msg = str(next(w for w in rec if "skipped" in str(w.message)).message)
    assert "corrupt.png" in msg and "truncated.jpg" in msg
    assert sorted(p.name for p in dm.skipped) == ["corrupt.png", "truncated.jpg"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second setup (e.g. another stage) reports nothing
        dm.setup("validate")
    assert sorted(p.name for p in dm.paths) == ["a.jpg", "a.png", "b.jpeg", "b.png", "c.PNG"]
    ds = dm.dataset
    assert ds.images.shape == (5, 3, 16, 16) and ds.images.dtype == torch.uint8
    labels = {p.name: int(lbl) for p, lbl in zip(dm.paths, ds.labels, strict=True)}
    assert labels == {"a.png": 0, "b.png": 0, "c.PNG": 0, "a.jpg": 1, "b.jpeg": 1}
    # colours survive: cats red, dogs blue (JPEG is lossy: allow a little error)
    for i, p in enumerate(dm.paths):
        expected = [255, 0, 0] if labels[p.name] == 0 else [0, 0, 255]
        mean = ds.images[i].float().mean((1, 2))
        assert torch.allclose(mean, torch.tensor(expected, dtype=torch.float32), atol=6)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (2, 3, 16, 16) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and x.min() >= -1 and x.max() <= 1
    assert x.min() == -1 and x.max() == 1  # pure red / blue map to the ends of [-1, 1]


def test_grey_no_subfolders_resize_and_centre_crop(tmp_path):
    # a 60x20 image: left third black, middle white, right third black -> crop keeps the white
    a = np.zeros((20, 60), np.uint8)
    a[:, 20:40] = 255
    Image.fromarray(a).save(tmp_path / "wide.png")
    Image.new("RGB", (32, 32), (255, 255, 255)).save(tmp_path / "white.JPG")
    dm = ImageFolderDataModule(str(tmp_path), resolution=8, channels=1, batch_size=1)
    assert dm.spec == DataSpec(shape=(1, 8, 8), num_classes=0)
    dm.setup()
    assert dm.skipped == []
    assert dm.dataset.images.shape == (2, 1, 8, 8)
    assert torch.equal(dm.dataset.labels, torch.zeros(2, dtype=torch.int64))
    wide = dm.dataset.images[[p.name for p in dm.paths].index("wide.png"), 0]
    assert wide[:, 2:6].float().mean() > 240  # centre of the crop is the white band


def test_root_files_ignored_when_class_folders_exist(tmp_path):
    save(tmp_path / "a" / "x.png", (0, 0, 0))
    save(tmp_path / "stray.png", (0, 0, 0))
    dm = ImageFolderDataModule(str(tmp_path), resolution=8, batch_size=1)
    with pytest.warns(UserWarning, match="ignored 1 image"):
        dm.setup()
    assert [p.name for p in dm.ignored] == ["stray.png"]
    assert [p.name for p in dm.paths] == ["x.png"]


def test_missing_and_empty_folders_name_the_path(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        ImageFolderDataModule(str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("hi")
    dm = ImageFolderDataModule(str(empty))
    with pytest.raises(ValueError, match=str(empty)):
        dm.setup()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="skipped 1"), pytest.raises(ValueError, match=str(bad)):
        ImageFolderDataModule(str(bad)).setup()


def test_bad_channels_and_unknown_key(tmp_path):
    with pytest.raises(ValueError, match="channels"):
        ImageFolderDataModule(str(tmp_path), channels=4)
    with pytest.raises(TypeError, match="resolutoin"):
        ImageFolderDataModule(str(tmp_path), resolutoin=32)
