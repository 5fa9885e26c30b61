import numpy as np
import pytest
import torch

from gan_lab.data import BouncingShapesDataModule, DataSpec, bouncing_shapes_clip
from gan_lab.data.bouncing_shapes import shape_mask


def test_batches_are_rgb_clips_in_range():
    dm = BouncingShapesDataModule(resolution=32, frames=8, length=8, batch_size=4,
                                  min_size=6, max_size=10)
    assert dm.spec == DataSpec(shape=(3, 8, 32, 32), num_classes=3)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 3, 8, 32, 32) and x.dtype == torch.float32
    assert x.min() == -1 and x.max() <= 1
    assert y.dtype == torch.int64 and ((y >= 0) & (y < 3)).all()
    assert int(y[2]) == dm.dataset.clip(2).kinds[0]
    # colour: the channels differ (not grey)
    assert (x[:, 0] != x[:, 1]).any() and (x[:, 1] != x[:, 2]).any()


def test_shapes_move_bounce_and_keep_their_colour():
    clip = bouncing_shapes_clip(rng=5, num_shapes=1, frames=40, resolution=48, min_size=10,
                                max_size=10, speed=3.0)
    assert clip.frames.shape == (3, 40, 48, 48) and clip.frames.dtype == np.uint8
    np.testing.assert_allclose(np.linalg.norm(clip.velocities, axis=-1), 3.0)
    assert clip.positions.min() >= 0 and clip.positions.max() <= 38
    assert (np.diff(np.sign(clip.velocities[:, 0]), axis=0) != 0).any()  # it bounced
    mask = shape_mask(("square", "circle", "triangle")[clip.kinds[0]], 10)
    for t in (0, 17, 39):
        frame = clip.frames[:, t].transpose(1, 2, 0)  # (H, W, 3)
        y, x = clip.positions[t, 0].astype(int)
        # fully covered pixels have the shape's colour, and nothing is drawn elsewhere
        np.testing.assert_array_equal(frame[y : y + 10, x : x + 10][mask == 1],
                                      np.broadcast_to(clip.colors[0], ((mask == 1).sum(), 3)))
        outside = np.ones((48, 48), bool)
        outside[y : y + 10, x : x + 10] = False
        assert frame[outside].max() == 0
    assert not np.array_equal(clip.frames[:, 0], clip.frames[:, 10])


def test_later_shapes_are_drawn_on_top():
    clip = bouncing_shapes_clip(rng=1, num_shapes=6, frames=2, resolution=20, min_size=12,
                                max_size=12, kinds=["square"])
    frame = clip.frames[:, 0].transpose(1, 2, 0)
    y, x = clip.positions[0, -1].astype(int)
    np.testing.assert_array_equal(frame[y : y + 12, x : x + 12],
                                  np.broadcast_to(clip.colors[-1], (12, 12, 3)))


def test_masks():
    square, circle, triangle = (shape_mask(k, 16) for k in ("square", "circle", "triangle"))
    assert square.min() == 1
    assert circle.sum() == pytest.approx(np.pi * 64, rel=0.02)
    assert triangle.sum() == pytest.approx(128, rel=0.02)
    assert triangle[0].sum() < triangle[-1].sum()  # points up
    with pytest.raises(ValueError, match="hexagon"):
        shape_mask("hexagon", 8)


def test_deterministic_per_index_and_options():
    dm = BouncingShapesDataModule(length=4, batch_size=2, seed=2)
    dm.setup()
    ds = dm.dataset
    assert torch.equal(ds[3][0], BouncingShapesDataModule(seed=2).train_dataloader().dataset[3][0])
    assert not torch.equal(ds[3][0], ds[2][0])
    circles = BouncingShapesDataModule(kinds=["circle"], num_shapes=3)
    assert circles.spec.num_classes == 1
    circles.setup()
    assert circles.dataset.clip(0).kinds.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="hexagon"):
        BouncingShapesDataModule(kinds=["hexagon"])
    with pytest.raises(ValueError, match="max_size"):
        BouncingShapesDataModule(resolution=16, max_size=20)
    with pytest.raises(TypeError, match="shapes"):
        BouncingShapesDataModule(shapes=3)
