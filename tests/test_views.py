"""Views of a clip: shapes, which frames they take, labels, independence of draws, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gan_lab.modules.views import (
    RandomFrames,
    SpatialDownsample,
    WholeClip,
    take_frames,
)

SHAPE = (3, 8, 16, 16)


def frame_ids(b: int = 5, shape=SHAPE) -> torch.Tensor:
    """Clips whose every pixel holds its frame's index, so a view reveals which frames it took."""
    c, t, h, w = shape
    return torch.arange(t, dtype=torch.float32).view(1, 1, t, 1, 1).expand(b, c, t, h, w).clone()


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (WholeClip(), (3, 8, 16, 16)),
        (RandomFrames(1), (3, 16, 16)),
        (RandomFrames(8, flatten=False), (3, 8, 16, 16)),
        (RandomFrames(3, flatten=False), (3, 3, 16, 16)),
        (SpatialDownsample(2), (3, 8, 8, 8)),
    ],
)
def test_output_shape_matches_what_the_view_returns(view, expected):
    x, y = torch.randn(5, *SHAPE), torch.arange(5)
    out, out_y = view(x, y)
    assert view.output_shape(SHAPE) == expected
    assert tuple(out.shape[1:]) == expected
    assert len(out_y) == len(out)


def test_random_frames_flattened_are_whole_frames_with_repeated_labels():
    x = frame_ids()
    images, y = RandomFrames(3)(x, torch.arange(5))
    assert images.shape == (15, 3, 16, 16)
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    ids = images[:, 0, 0, 0].view(5, 3)
    assert (images == images[:, :1, :1, :1]).all()  # each image is one whole frame
    assert (ids[:, 1:] > ids[:, :-1]).all()  # distinct, in temporal order
    assert ids.min() >= 0 and ids.max() <= 7


def test_random_frames_are_drawn_per_clip_and_afresh_at_each_call():
    torch.manual_seed(0)
    x, view = frame_ids(b=64), RandomFrames(1)
    first, _ = view(x)
    second, _ = view(x)
    ids_first, ids_second = first[:, 0, 0, 0], second[:, 0, 0, 0]
    assert len(ids_first.unique()) > 4  # clips get different frames
    assert not torch.equal(ids_first, ids_second)  # real and fake batches get independent draws
    assert view(x)[1] is None  # no labels in, none out


def test_all_frames_drawn_equally_often():
    torch.manual_seed(0)
    ids = RandomFrames(2)(frame_ids(b=4000))[0][:, 0, 0, 0]
    counts = torch.bincount(ids.long(), minlength=8).float()
    assert (counts / counts.sum() - 1 / 8).abs().max() < 0.02


def test_spatial_downsample_is_average_pooling():
    x = torch.randn(2, *SHAPE)
    out, _ = SpatialDownsample(2)(x)
    expected = F.avg_pool2d(x.transpose(1, 2).flatten(0, 1), 2).view(2, 8, 3, 8, 8)
    torch.testing.assert_close(out, expected.transpose(1, 2))


def test_take_frames_gathers_per_clip():
    x = frame_ids(b=2)
    out = take_frames(x, torch.tensor([[0, 7], [3, 4]]))
    assert out[:, 0, :, 0, 0].tolist() == [[0.0, 7.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("view", "match"),
    [
        (RandomFrames(9), "k=9"),
        (SpatialDownsample(3), "divisible by factor 3"),
    ],
)
def test_views_refuse_shapes_they_cannot_make(view, match):
    with pytest.raises(ValueError, match=match):
        view.output_shape(SHAPE)


def test_views_need_clips():
    with pytest.raises(ValueError, match=r"video data \(C, T, H, W\)"):
        WholeClip().output_shape((3, 16, 16))
    with pytest.raises(ValueError, match=r"expects clips"):
        RandomFrames(1)(torch.randn(2, 3, 16, 16))
    with pytest.raises(ValueError, match="k must be >= 1"):
        RandomFrames(0)
