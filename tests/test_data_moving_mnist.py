import itertools

import numpy as np
import pytest
import torch

from gan_lab.data import (
    DataSpec,
    MovingMNISTDataModule,
    MovingMNISTDataset,
    load_mnist,
    moving_mnist_clip,
)
from gan_lab.data.clips import bouncing_trajectories
from gan_lab.data.moving_mnist import render_max

SPEED = 3.6  # 0.1 * (64 - 28)
EXTENT = 36.0


@pytest.fixture(scope="module")
def pool():
    digits, labels = load_mnist("val")
    return digits.numpy(), labels.numpy()


@pytest.fixture(scope="module")
def clips(pool):
    return [moving_mnist_clip(*pool, rng=i) for i in range(60)]


def test_speed_is_3_6_px_per_frame_between_bounces(clips):
    free_steps = 0
    for clip in clips:
        assert clip.frames.shape == (20, 64, 64) and clip.frames.dtype == np.uint8
        assert clip.positions.shape == clip.velocities.shape == (20, 2, 2)
        np.testing.assert_allclose(np.linalg.norm(clip.velocities, axis=-1), SPEED)
        p = clip.positions
        inside = ((p[1:] > 0) & (p[1:] < EXTENT)).all(-1)  # (T-1, D): no clamp on arrival
        step = np.linalg.norm(p[1:] - p[:-1], axis=-1)
        np.testing.assert_allclose(step[inside], SPEED)
        np.testing.assert_allclose(p[1:][inside], (p[:-1] + clip.velocities[:-1])[inside])
        free_steps += inside.sum()
    assert free_steps > 1000


def test_bounce_clamps_position_and_reverses_velocity(clips):
    bounces = 0
    for clip in clips:
        p, v = clip.positions, clip.velocities
        assert p.min() >= 0 and p.max() <= EXTENT
        at_edge = (p[1:] == 0) | (p[1:] == EXTENT)  # (T-1, D, 2)
        np.testing.assert_array_equal(v[1:][at_edge], -v[:-1][at_edge])
        np.testing.assert_array_equal(v[1:][~at_edge], v[:-1][~at_edge])
        # the clamped coordinate would have left the box
        np.testing.assert_array_equal(
            np.clip(p[:-1] + v[:-1], 0, EXTENT)[at_edge], p[1:][at_edge]
        )
        outside = ((p[:-1] + v[:-1]) < 0) | ((p[:-1] + v[:-1]) > EXTENT)
        assert not (outside & ~at_edge).any()
        bounces += at_edge.sum()
    assert bounces > 20


def test_start_positions_and_directions_are_uniform():
    rng = np.random.default_rng(0)
    pos, vel = bouncing_trajectories(rng, 20_000, 1, EXTENT, SPEED)
    angles = np.arctan2(vel[0, :, 0], vel[0, :, 1])  # bounces only flip signs: fold to |.|
    hist, _ = np.histogram(np.abs(angles), bins=6, range=(0, np.pi))
    assert hist.min() > 0.9 * hist.mean() and hist.max() < 1.1 * hist.mean()
    inner = pos[0][((pos[0] > SPEED) & (pos[0] < EXTENT - SPEED)).all(-1)]
    hist, _ = np.histogram(inner[:, 0], bins=4, range=(SPEED, EXTENT - SPEED))
    assert hist.min() > 0.9 * hist.mean() and hist.max() < 1.1 * hist.mean()


def test_overlapping_digits_merge_by_maximum():
    a = np.full((28, 28), 100, np.uint8)
    b = np.full((28, 28), 50, np.uint8)
    b[:, :4] = 250
    top_left = np.array([[[0, 0], [10, 20]]])  # (T=1, D=2, 2): b overlaps a's lower right
    frame = render_max(np.stack([a, b]), top_left, 64)[0]
    assert frame[5, 5] == 100  # a alone
    assert frame[20, 25] == 100  # overlap, b = 50: max(100, 50)
    assert frame[20, 22] == 250  # overlap, b = 250: max(100, 250)
    assert frame[37, 47] == 50 and frame[37, 10] == 0  # b alone; neither
    # the same with the digits in the other order
    swapped = render_max(np.stack([b, a]), top_left[:, ::-1], 64)[0]
    np.testing.assert_array_equal(frame, swapped)


def test_frames_are_the_max_of_digits_drawn_at_their_positions(pool, clips):
    digits, labels = pool
    for clip in clips[:10]:
        np.testing.assert_array_equal(labels[clip.digit_indices], clip.labels)
        for t in range(20):
            expected = np.zeros((64, 64), np.uint8)
            for d, i in enumerate(clip.digit_indices):
                y, x = np.floor(clip.positions[t, d]).astype(int)
                np.maximum(expected[y : y + 28, x : x + 28], digits[i],
                           out=expected[y : y + 28, x : x + 28])
            np.testing.assert_array_equal(clip.frames[t], expected)
    assert all(c.digit_indices[0] != c.digit_indices[1] for c in clips)


def test_deterministic_per_index_and_different_across_indices_and_seeds(pool):
    ds = MovingMNISTDataset(*pool, length=10, seed=3)
    again = MovingMNISTDataset(*pool, length=10, seed=3)
    x0, y0 = ds[0]
    assert torch.equal(x0, again[0][0]) and y0 == again[0][1]
    assert not torch.equal(x0, ds[1][0])
    assert not torch.equal(x0, MovingMNISTDataset(*pool, length=10, seed=4)[0][0])
    assert not torch.equal(x0, MovingMNISTDataset(*pool, length=10, seed=3, stream=1)[0][0])
    assert torch.equal(ds[7][0], ds[7][0])  # order of access does not matter
    # fewer frames = the first frames of the same clip
    short = MovingMNISTDataset(*pool, length=10, seed=3, frames=16)
    assert torch.equal(short[5][0], ds[5][0][:, :16])
    # the label is the first digit's class
    assert int(ds[2][1]) == ds.clip(2).labels[0]


def test_options_canvas_digits_speed(pool):
    clip = moving_mnist_clip(*pool, rng=0, num_digits=3, frames=7, canvas_size=96)
    assert clip.frames.shape == (7, 96, 96) and clip.positions.shape == (7, 3, 2)
    np.testing.assert_allclose(np.linalg.norm(clip.velocities, axis=-1), 0.1 * 68)
    assert clip.positions.max() <= 68
    slow = moving_mnist_clip(*pool, rng=0, speed=1.0)
    np.testing.assert_allclose(np.linalg.norm(slow.velocities, axis=-1), 1.0)
    dm = MovingMNISTDataModule(frames=16, canvas_size=96, num_digits=1)
    assert dm.spec == DataSpec(shape=(1, 16, 96, 96), num_classes=10)
    assert dm.speed == pytest.approx(6.8)
    with pytest.raises(ValueError, match="canvas_size"):
        moving_mnist_clip(*pool, rng=0, canvas_size=20)


def test_train_and_val_digit_pools_are_disjoint():
    train = MovingMNISTDataModule(split="train", length=8)
    val = MovingMNISTDataModule(split="val", length=8)
    train.setup()
    val.setup()
    train_rows = {bytes(r) for r in train.dataset.digits.reshape(len(train.dataset.digits), -1)}
    val_rows = {bytes(r) for r in val.dataset.digits.reshape(len(val.dataset.digits), -1)}
    assert len(val_rows) == 997 and not train_rows & val_rows
    # a val clip is made of val digits only
    clip = val.dataset.clip(0)
    assert all(bytes(val.dataset.digits[i].reshape(-1)) in val_rows for i in clip.digit_indices)
    assert not torch.equal(train.dataset[0][0], val.dataset[0][0])


def test_datamodule_streams_new_clips_and_resumes_exactly():
    dm = MovingMNISTDataModule(frames=16, length=8, batch_size=4, seed=1)
    assert dm.spec == DataSpec(shape=(1, 16, 64, 64), num_classes=10)
    stream = iter(dm.train_dataloader())
    batches = [next(stream) for _ in range(3)]
    x, y = batches[0]
    assert x.shape == (4, 1, 16, 64, 64) and x.dtype == torch.float32
    assert y.shape == (4,) and y.dtype == torch.int64 and 0 <= y.min() and y.max() <= 9
    assert x.min() == -1 and x.max() == 1
    assert torch.equal(x[1], dm.dataset[1][0])
    assert torch.equal(batches[2][0][0], dm.dataset[8][0])  # past `length`: new clips
    dm.resume_at(2)  # a run resumed after 2 batches continues with the third
    assert torch.equal(next(iter(dm.train_dataloader()))[0], batches[2][0])


def test_worker_processes_give_the_same_batches():
    kwargs = {"length": 8, "batch_size": 4, "frames": 4}
    single = next(iter(MovingMNISTDataModule(**kwargs).train_dataloader()))
    workers = next(iter(MovingMNISTDataModule(num_workers=2, **kwargs).train_dataloader()))
    assert torch.equal(single[0], workers[0]) and torch.equal(single[1], workers[1])


@pytest.fixture
def test_seq(tmp_path):
    """A small file in the layout of mnist_test_seq.npy: uint8 (T=20, N=5, 64, 64)."""
    t, n = np.meshgrid(np.arange(20), np.arange(5), indexing="ij")
    array = np.zeros((20, 5, 64, 64), np.uint8)
    array[:, :, 3, 7] = 10 * n + t + 1  # a marker that names (n, t)
    array[:, :, 40, 50] = 255
    path = tmp_path / "mnist_test_seq.npy"
    np.save(path, array)
    return path


def test_time_first_file_is_read_as_clips(test_seq):
    dm = MovingMNISTDataModule(path=str(test_seq), batch_size=2)
    assert dm.spec == DataSpec(shape=(1, 20, 64, 64), num_classes=0)
    dm.setup()
    assert len(dm.dataset) == 5
    for n in range(5):
        x, y = dm.dataset[n]
        assert x.shape == (1, 20, 64, 64) and int(y) == 0
        marker = ((x[0, :, 3, 7] + 1) * 127.5).round().long()
        assert marker.tolist() == [10 * n + t + 1 for t in range(20)]
    assert x[0, 12, 40, 50] == 1 and x[0, 12, 0, 0] == -1
    short = MovingMNISTDataModule(path=str(test_seq), frames=16, length=4, batch_size=2)
    assert short.spec.shape == (1, 16, 64, 64) and len(short.dataset) == 4
    assert torch.equal(short.dataset[3][0], dm.dataset[3][0][:, :16])
    batches = list(itertools.islice(short.train_dataloader(), 2))  # one pass over the 4 clips
    assert len(batches) == 2 and batches[0][0].shape == (2, 1, 16, 64, 64)
    seen = torch.cat([b[0][:, 0, 0, 3, 7] for b in batches])
    assert sorted(((seen + 1) * 127.5).round().long().tolist()) == [1, 11, 21, 31]
    workers = MovingMNISTDataModule(path=str(test_seq), batch_size=5, num_workers=1)
    assert next(iter(workers.train_dataloader()))[0].shape == (5, 1, 20, 64, 64)


def test_bad_file_split_and_keys_are_rejected(tmp_path, test_seq):
    missing = tmp_path / "nope.npy"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        MovingMNISTDataModule(path=str(missing))
    wrong = tmp_path / "float.npy"
    np.save(wrong, np.zeros((20, 2, 64, 64), np.float32))
    with pytest.raises(ValueError, match="float.npy"):
        MovingMNISTDataModule(path=str(wrong))
    with pytest.raises(ValueError, match="fewer than frames=24"):
        MovingMNISTDataModule(path=str(test_seq), frames=24)
    with pytest.raises(ValueError, match="test"):
        MovingMNISTDataModule(split="test")
    with pytest.raises(TypeError, match="num_digit"):
        MovingMNISTDataModule(num_digit=3)
    with pytest.raises(ValueError, match="data.length"):
        MovingMNISTDataModule(length=0)


def test_resolution_averages_the_canvas_over_blocks(test_seq):
    full = MovingMNISTDataModule(length=4, batch_size=2)
    half = MovingMNISTDataModule(length=4, batch_size=2, resolution=32)
    assert half.spec == DataSpec(shape=(1, 20, 32, 32), num_classes=10)
    full.setup()
    half.setup()
    (x, y), (small, small_y) = full.dataset[1], half.dataset[1]
    torch.testing.assert_close(small, torch.nn.functional.avg_pool2d(x, 2))  # same clip, half size
    assert int(y) == int(small_y)
    from_file = MovingMNISTDataModule(path=str(test_seq), resolution=16, batch_size=2)
    assert from_file.spec.shape == (1, 20, 16, 16)
    assert next(iter(from_file.train_dataloader()))[0].shape == (2, 1, 20, 16, 16)
    with pytest.raises(ValueError, match="resolution must divide the frame size 64"):
        MovingMNISTDataModule(resolution=48)


def test_area_downsample_is_the_exact_block_mean_of_uint8_frames():
    from gan_lab.data.clips import area_downsample

    frames = np.random.default_rng(0).integers(0, 256, (3, 16, 64, 64), dtype=np.uint8)
    for factor in (2, 4, 8):
        blocks = frames.reshape(3, 16, 64 // factor, factor, 64 // factor, factor)
        expected = blocks.mean(axis=(-3, -1), dtype=np.float64).astype(np.float32)
        np.testing.assert_array_equal(area_downsample(frames, factor), expected)
