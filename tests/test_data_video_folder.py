import logging
import os
import warnings

import av
import numpy as np
import pytest
import torch
from PIL import Image

from gan_lab.data import DataSpec, VideoFolderDataModule, video_files
from gan_lab.data import video_folder as vf


def frame_color(i):
    """The colour of frame i: it names the frame mod 26 (steps of 10 survive lossy codecs)."""
    k = i % 26
    return (10 * k, 250 - 10 * k, 128)


def frames_array(n, h=24, w=32):
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i] = frame_color(i)
    return frames


def write_video(path, n, codec="libx264", h=24, w=32, fps=25, gop=None):
    """A video whose frame i is filled with frame_color(i), written with PyAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    container = {".gif": "gif", ".avi": "avi", ".mp4": "mp4"}[path.suffix]
    pix_fmt = {"gif": "rgb8", "mpeg4": "yuv420p", "libx264": "yuv420p"}[codec]
    options = {"crf": "0"} if codec == "libx264" else {}
    if codec == "mpeg4":
        options = {"qscale": "1"}
    if gop is not None:
        options["g"] = str(gop)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        for i, a in enumerate(frames_array(n, h, w)):
            frame = av.VideoFrame.from_ndarray(a, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def write_frames(folder, n, h=24, w=32, ext="png"):
    folder.mkdir(parents=True, exist_ok=True)
    for i, a in enumerate(frames_array(n, h, w)):
        Image.fromarray(a).save(folder / f"f{i + 1}.{ext}")  # f1 .. fn: natural order matters
    return folder


@pytest.fixture
def folder(tmp_path):
    """UCF-101 layout: two classes; 5 good videos, a corrupt, an empty and a short one."""
    root = tmp_path / "videos"
    write_video(root / "jumping" / "a.mp4", 20)
    write_video(root / "jumping" / "b.gif", 12, codec="gif")
    write_frames(root / "jumping" / "c_frames", 12)
    (root / "jumping" / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(3000))
    (root / "jumping" / "empty.avi").write_bytes(b"")
    write_video(root / "running" / "d.mp4", 30)
    write_video(root / "running" / "short.mp4", 3)
    write_video(root / "running" / "nested" / "e.avi", 16, codec="mpeg4")
    (root / "running" / "notes.txt").write_text("not a video")
    write_video(root / ".hidden" / "x.mp4", 20)
    return root


def frame_ids(x):
    """Clip x (3, T, H, W) in [-1, 1] -> the index of each frame, from its red channel."""
    red = (x[0].mean((1, 2)) + 1) * 127.5
    return (red / 10).round().long().tolist()


def test_labels_and_broken_files_skipped_counted_reported_once(folder):
    dm = VideoFolderDataModule(str(folder), frames=8, resolution=16, batch_size=2)
    assert dm.classes == ["jumping", "running"]
    assert dm.spec == DataSpec(shape=(3, 8, 16, 16), num_classes=2)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        dm.setup("fit")
        dm.setup("validate")  # a second stage reports nothing
    messages = [str(w.message) for w in rec]
    assert len(messages) == 1, messages
    assert "skipped 3 of 8 video(s) (2 unreadable, 1 too short for frames=8" in messages[0]
    for name in ("corrupt.mp4", "empty.avi", "short.mp4"):
        assert name in messages[0]
    assert sorted(p.name for p, _ in dm.skipped) == ["corrupt.mp4", "empty.avi", "short.mp4"]
    labels = {v.path: label for v, label in zip(dm.videos, dm.labels, strict=True)}
    assert labels == {
        "jumping/a.mp4": 0, "jumping/b.gif": 0, "jumping/c_frames": 0,
        "running/d.mp4": 1, "running/nested/e.avi": 1,
    }
    info = {v.path: v for v in dm.videos}
    assert info["running/d.mp4"].num_frames == 30 and info["running/d.mp4"].fps == 25
    assert info["jumping/b.gif"].num_frames == 12 and info["jumping/c_frames"].kind == "frames"
    assert (info["jumping/a.mp4"].width, info["jumping/a.mp4"].height) == (32, 24)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (2, 3, 8, 16, 16) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1 and y.dtype == torch.int64


@pytest.mark.parametrize("name", ["a.mp4", "b.gif", "c_frames", "e.avi"])
def test_clip_frames_follow_offset_and_stride(folder, name):
    dm = VideoFolderDataModule(str(folder), frames=4, stride=3, offset="first", resolution=8,
                               index_cache=False, batch_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm.setup()
    i = [v.path.rsplit("/", 1)[-1] for v in dm.videos].index(name)
    x, y = dm.dataset[i]
    assert x.shape == (3, 4, 8, 8)
    assert frame_ids(x) == [0, 3, 6, 9]
    # colours in RGB order
    expected = torch.tensor(frame_color(3), dtype=torch.float32) / 127.5 - 1
    assert torch.allclose(x[:, 1].mean((1, 2)), expected, atol=0.1)
    # random offsets: the clip fits, its frames are `stride` apart, starts vary with the
    # position in the training stream and are a function of it (a resumed run reads the same)
    dm.dataset.offset = "random"
    starts = set()
    for position in range(12):
        ids = frame_ids(dm.dataset[i, position][0])
        assert ids == list(range(ids[0], ids[0] + 12, 3))
        assert 0 <= ids[0] <= dm.videos[i].num_frames - 10
        assert frame_ids(dm.dataset[i, position][0]) == ids
        starts.add(ids[0])
    assert len(starts) > 1


def test_seeking_far_into_a_long_video(tmp_path):
    write_video(tmp_path / "long.mp4", 90, gop=10)  # key frames 0, 10, 20, ...
    dm = VideoFolderDataModule(str(tmp_path), frames=3, stride=2, offset="first", resolution=8,
                               batch_size=1)
    dm.setup()
    for start in (0, 40, 80):  # 40 and 80 are past SEEK_MIN_FRAMES: located by timestamp
        video = dm.dataset.read_clip(0, start)
        red = video[0].astype(float).mean((1, 2))
        assert np.round(red / 10).tolist() == [(start + k) % 26 for k in (0, 2, 4)]


def test_greyscale_and_centre_crop(tmp_path):
    a = np.zeros((6, 20, 60, 3), np.uint8)
    a[:, :, 20:40] = 255  # a white band in the middle third
    with av.open(str(tmp_path / "wide.mp4"), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 60, 20, "yuv420p"
        for f in a:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode())
    dm = VideoFolderDataModule(str(tmp_path), frames=6, resolution=8, channels=1, batch_size=1)
    assert dm.spec == DataSpec(shape=(1, 6, 8, 8), num_classes=0)
    dm.setup()
    x, y = dm.dataset[0]
    assert x.shape == (1, 6, 8, 8) and int(y) == 0
    assert x[0, :, :, 2:6].mean() > 0.9  # the crop keeps the white band in its centre


def test_index_is_cached_and_invalidated_by_changes(folder, monkeypatch):
    kwargs = {"frames": 8, "resolution": 8, "batch_size": 1}
    first = VideoFolderDataModule(str(folder), **kwargs)
    with pytest.warns(UserWarning, match="skipped 3"):
        first.setup()
    assert first.probed == 8 and (folder / video_files.INDEX_FILE).is_file()

    calls = []
    real_probe = vf.probe
    monkeypatch.setattr(vf, "probe", lambda root, path: calls.append(path.name)
                        or real_probe(root, path))
    again = VideoFolderDataModule(str(folder), **kwargs)
    with pytest.warns(UserWarning, match="skipped 3"):  # still reported at every start
        again.setup()
    assert calls == [] and again.probed == 0
    assert [v.path for v in again.videos] == [v.path for v in first.videos]
    assert [str(p) for p, _ in again.skipped] == [str(p) for p, _ in first.skipped]

    write_video(folder / "running" / "short.mp4", 25)  # repaired: now long enough
    write_frames(folder / "jumping" / "c_frames", 14)  # two frames added
    st = (folder / "running" / "d.mp4").stat()
    os.utime(folder / "running" / "d.mp4", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    changed = VideoFolderDataModule(str(folder), **kwargs)
    with pytest.warns(UserWarning, match="skipped 2"):
        changed.setup()
    assert sorted(calls) == ["c_frames", "d.mp4", "short.mp4"] and changed.probed == 3
    info = {v.path: v.num_frames for v in changed.videos}
    assert info["running/short.mp4"] == 25 and info["jumping/c_frames"] == 14


def test_cache_dir_and_no_cache(folder, tmp_path):
    cache = tmp_path / "cache"
    dm = VideoFolderDataModule(str(folder), frames=8, cache_dir=str(cache), batch_size=1)
    with pytest.warns(UserWarning):
        dm.setup()
    assert dm.index_file.parent == cache and dm.index_file.is_file()
    assert not (folder / video_files.INDEX_FILE).exists()
    off = VideoFolderDataModule(str(folder), frames=8, index_cache=False, batch_size=1)
    with pytest.warns(UserWarning):
        off.setup()
    assert off.probed == 8 and not (folder / video_files.INDEX_FILE).exists()


def test_decode_failure_mid_epoch_falls_back_and_is_counted(folder, caplog):
    dm = VideoFolderDataModule(str(folder), frames=4, offset="first", resolution=8,
                               index_cache=False, batch_size=1)
    with pytest.warns(UserWarning):
        dm.setup()
    ds = dm.dataset
    names = [v.path for v in dm.videos]
    a = names.index("jumping/a.mp4")
    (folder / "jumping" / "a.mp4").write_bytes(b"broken after setup")
    with caplog.at_level(logging.WARNING, logger="gan_lab.data"):
        x, y = ds[a]
        x2, _ = ds[a]
    assert ds.failures == 1 and a in ds.broken
    assert len([r for r in caplog.records if "a.mp4" in r.getMessage()]) == 1
    assert torch.equal(x, ds[a + 1][0]) and torch.equal(x, x2)  # the next video, deterministic
    assert int(y) == ds.labels[a + 1]
    # a video shorter than its header says: retried from frame 0, its length corrected
    b = names.index("jumping/b.gif")
    ds.num_frames[b] = 100
    ds.offset = "random"
    torch.manual_seed(1)
    x, y = ds[b]
    assert frame_ids(x) == [0, 1, 2, 3] and ds.failures == 2 and ds.num_frames[b] == 12
    assert b not in ds.broken
    # everything broken: a clear error, not a hang
    ds.broken.update(range(len(ds)))
    with pytest.raises(RuntimeError, match="no video could be decoded"):
        ds[0]


def test_root_videos_ignored_with_classes(tmp_path):
    write_video(tmp_path / "cls" / "a.mp4", 5)
    write_video(tmp_path / "stray.mp4", 5)
    write_frames(tmp_path / "stray_frames", 5)  # a frame folder is a video, not a class
    dm = VideoFolderDataModule(str(tmp_path), frames=4, batch_size=1)
    assert dm.classes == ["cls"]
    with pytest.warns(UserWarning, match="ignored 2 video"):
        dm.setup()
    assert [p.name for p in dm.ignored] == ["stray.mp4", "stray_frames"]
    assert [v.path for v in dm.videos] == ["cls/a.mp4"] and dm.labels == [0]


def test_frame_folders_at_top_level_are_videos_without_classes(tmp_path):
    write_frames(tmp_path / "clip1", 5)
    write_frames(tmp_path / "clip2", 6, ext="jpg")
    dm = VideoFolderDataModule(str(tmp_path), frames=5, offset="first", resolution=8,
                               batch_size=2)
    assert dm.classes == [] and dm.spec.num_classes == 0
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (2, 3, 5, 8, 8) and y.tolist() == [0, 0]
    assert frame_ids(x[0]) == [0, 1, 2, 3, 4]


def test_missing_and_empty_folders_and_bad_options(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        VideoFolderDataModule(str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("hi")
    with pytest.raises(ValueError, match=str(empty)):
        VideoFolderDataModule(str(empty)).setup()
    with pytest.raises(ValueError, match="offset"):
        VideoFolderDataModule(str(empty), offset="middle")
    with pytest.raises(ValueError, match="channels"):
        VideoFolderDataModule(str(empty), channels=2)
    with pytest.raises(TypeError, match="frame_stride"):
        VideoFolderDataModule(str(empty), frame_stride=2)
    write_video(tmp_path / "few" / "a.mp4", 5)
    few = VideoFolderDataModule(str(tmp_path / "few"), frames=4, batch_size=2)
    with pytest.raises(ValueError, match="batch_size=2"):
        few.train_dataloader()
