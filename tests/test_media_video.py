from fractions import Fraction
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch

from gan_lab.callbacks.samples import log_media
from gan_lab.data import DataSpec
from gan_lab.media import image_grid, video_grid, write_gif, write_mp4, write_samples


def decode(path):
    """All frames of ``path`` as uint8 (T, H, W, 3), and the time between frames in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        step = float((frames[-1].pts - frames[0].pts) * stream.time_base) / (len(frames) - 1)
        return np.stack([f.to_ndarray(format="rgb24") for f in frames]), step


def moving_square(t=12, h=30, w=41, channels=3):
    """uint8 (T, H, W, C): a coloured square moving right on black, few distinct colours."""
    frames = np.zeros((t, h, w, channels), np.uint8)
    color = (250, 120, 10)[:channels]
    for i in range(t):
        frames[i, 5:15, 2 * i : 2 * i + 10] = color
        frames[i, 20:25, 30:35] = (20 * i, 60, 200)[:channels]
    return frames


def test_video_grid_is_the_image_grid_of_each_frame():
    x = torch.rand(5, 3, 4, 6, 7) * 2 - 1
    grid = video_grid(x, nrow=3)
    assert grid.shape == (4, 2 * 8 + 2, 3 * 9 + 2, 3) and grid.dtype == np.uint8
    for t in range(4):
        np.testing.assert_array_equal(grid[t], image_grid(x[:, :, t], nrow=3))
    assert grid[:, :2].max() == 0  # padding is black
    with pytest.raises(ValueError, match="N, C, T, H, W"):
        video_grid(x[:, :, 0])


def test_gif_round_trip_rgb_and_grey(tmp_path):
    frames = moving_square()
    decoded, step = decode(write_gif(frames, tmp_path / "rgb.gif", fps=10))
    assert decoded.shape == frames.shape  # frame count and size
    np.testing.assert_array_equal(decoded, frames)  # <= 256 colours: exact
    assert step == pytest.approx(0.1, abs=0.005)
    grey = (np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1) + np.zeros((5, 1, 1, 1), np.uint8))
    decoded, step = decode(write_gif(grey, tmp_path / "grey.gif", fps=4))
    assert decoded.shape == (5, 16, 16, 3)
    np.testing.assert_array_equal(decoded[..., 0], grey[..., 0])  # all 256 levels kept
    assert step == pytest.approx(0.25, abs=0.005)
    noisy = np.random.default_rng(0).integers(0, 256, (3, 20, 20, 3), dtype=np.uint8)
    decoded, _ = decode(write_gif(noisy, tmp_path / "noisy.gif"))
    assert decoded.shape == noisy.shape
    assert np.abs(decoded.astype(int) - noisy).mean() < 20  # > 256 colours: quantized


def test_mp4_round_trip_pads_odd_sizes(tmp_path):
    frames = moving_square(t=10, h=31, w=41)
    path = write_mp4(frames, tmp_path / "clip.mp4", fps=8)
    decoded, step = decode(path)
    assert decoded.shape == (10, 32, 42, 3)
    assert step == pytest.approx(1 / 8)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == Fraction(8)
    assert np.abs(decoded[:, :31, :41].astype(int) - frames).mean() < 3
    assert decoded[:, 31].max() < 20 and decoded[:, :, 41].max() < 20  # black padding
    # the square moved: frames differ where it was
    assert decoded[0, 10, 3].mean() > 100 and decoded[9, 10, 3].mean() < 30


def test_write_samples_for_videos(tmp_path):
    spec = DataSpec(shape=(1, 6, 16, 16))
    x = torch.rand(5, 1, 6, 16, 16) * 2 - 1
    gif, _ = decode(write_samples(x, spec, tmp_path / "s.gif", nrow=3))
    assert gif.shape == (6, 2 * 18 + 2, 3 * 18 + 2, 3)
    np.testing.assert_array_equal(gif[..., 0], video_grid(x, nrow=3)[..., 0])
    mp4, step = decode(write_samples(x, spec, tmp_path / "s.mp4", nrow=3, fps=5))
    assert mp4.shape == (6, 38, 56, 3) and step == pytest.approx(0.2)
    raw = np.load(write_samples(x, spec, tmp_path / "s.npy"))
    assert raw.shape == (5, 1, 6, 16, 16)
    np.testing.assert_allclose(raw, x.numpy())
    from PIL import Image

    strip = np.asarray(Image.open(write_samples(x, spec, tmp_path / "s.png")))
    assert strip.shape == (5 * 18 + 2, 6 * 18 + 2)  # one clip a row, its frames across
    with pytest.raises(ValueError, match=r"\.gif / \.mp4 for videos"):
        write_samples(torch.zeros(4, 1, 8, 8), DataSpec(shape=(1, 8, 8)), tmp_path / "i.gif")


def test_log_media_sends_video_files_to_wandb_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    import wandb
    from lightning.pytorch.loggers import WandbLogger

    spec = DataSpec(shape=(3, 4, 8, 8))
    x = torch.rand(4, 3, 4, 8, 8) * 2 - 1
    logger = WandbLogger(save_dir=str(tmp_path), project="test", offline=True)
    try:
        for suffix in ("gif", "mp4"):
            path = write_samples(x, spec, tmp_path / f"samples.{suffix}")
            log_media(SimpleNamespace(loggers=[logger]), "samples", path, iteration=3)
    finally:
        wandb.finish()
    media = sorted(p.suffix for p in tmp_path.glob("wandb/offline-run-*/files/media/videos/*"))
    assert media == [".gif", ".mp4"]
