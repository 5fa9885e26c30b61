"""DiffAugment: the reference operations reproduced draw for draw, differentiability, one
transform per clip, and its use before every discriminator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gan_lab.losses import DiffAugment
from gan_lab.losses.diffaugment import (
    rand_brightness,
    rand_contrast,
    rand_cutout,
    rand_saturation,
    rand_translation,
)


# ---- the authors' operations (DiffAugment_pytorch.py, MIT), transcribed to check ours against
def ref_brightness(x):
    return x + (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)


def ref_saturation(x):
    x_mean = x.mean(dim=1, keepdim=True)
    return (x - x_mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype) * 2) + x_mean


def ref_contrast(x):
    x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - x_mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype) + 0.5) + x_mean


def ref_translation(x, ratio=0.125):
    shift_x, shift_y = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    translation_x = torch.randint(-shift_x, shift_x + 1, size=[x.size(0), 1, 1])
    translation_y = torch.randint(-shift_y, shift_y + 1, size=[x.size(0), 1, 1])
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0)), torch.arange(x.size(2)), torch.arange(x.size(3)), indexing="ij")
    grid_x = torch.clamp(grid_x + translation_x + 1, 0, x.size(2) + 1)
    grid_y = torch.clamp(grid_y + translation_y + 1, 0, x.size(3) + 1)
    x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return x_pad.permute(0, 2, 3, 1).contiguous()[grid_batch, grid_x, grid_y].permute(0, 3, 1, 2)


def ref_cutout(x, ratio=0.5):
    cutout_size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    offset_x = torch.randint(0, x.size(2) + (1 - cutout_size[0] % 2), size=[x.size(0), 1, 1])
    offset_y = torch.randint(0, x.size(3) + (1 - cutout_size[1] % 2), size=[x.size(0), 1, 1])
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0)), torch.arange(cutout_size[0]), torch.arange(cutout_size[1]),
        indexing="ij")
    grid_x = torch.clamp(grid_x + offset_x - cutout_size[0] // 2, min=0, max=x.size(2) - 1)
    grid_y = torch.clamp(grid_y + offset_y - cutout_size[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(x.size(0), x.size(2), x.size(3), dtype=x.dtype)
    mask[grid_batch, grid_x, grid_y] = 0
    return x * mask.unsqueeze(1)


PAIRS = [(rand_brightness, ref_brightness), (rand_saturation, ref_saturation),
         (rand_contrast, ref_contrast), (rand_translation, ref_translation),
         (rand_cutout, ref_cutout)]


@pytest.mark.parametrize("ours, reference", PAIRS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("size", [(8, 8), (9, 12), (28, 28)])
def test_operations_match_the_reference_draw_for_draw(ours, reference, size):
    x = torch.rand(6, 3, *size) * 2 - 1
    torch.manual_seed(7)
    expected = reference(x)
    torch.manual_seed(7)
    torch.testing.assert_close(ours(x), expected, rtol=0, atol=0)


def test_policy_is_differentiable_for_g():
    torch.manual_seed(0)
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_(True)
    weights = torch.randn(4, 3, 16, 16)
    (DiffAugment()(x) * weights).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    # translation alone moves values: the gradient of a sum is a 0/1 mask of the kept pixels
    y = (torch.rand(2, 1, 8, 8)).requires_grad_(True)
    torch.manual_seed(1)
    rand_translation(y).sum().backward()
    assert set(y.grad.unique().tolist()) <= {0.0, 1.0}


def test_one_transform_per_clip_on_every_frame():
    torch.manual_seed(2)
    frame = torch.rand(5, 3, 1, 16, 16) * 2 - 1
    clip = frame.expand(-1, -1, 8, -1, -1).contiguous()  # a still clip: all frames equal
    out = DiffAugment()(clip)
    assert out.shape == clip.shape
    for t in range(1, 8):
        torch.testing.assert_close(out[:, :, t], out[:, :, 0], rtol=0, atol=0)
    assert not torch.equal(out, clip)
    # moving clips: a spatial op shifts every frame of a clip by the same amount
    moving = torch.rand(3, 1, 4, 12, 12)
    torch.manual_seed(3)
    shifted = rand_translation(moving)
    for t in range(4):
        torch.manual_seed(3)
        torch.testing.assert_close(shifted[:, :, t], rand_translation(moving[:, :, t]))


def test_policy_and_shape_errors():
    with pytest.raises(ValueError, match="augment.policy"):
        DiffAugment("color,zoom")
    with pytest.raises(ValueError, match="augment=none"):
        DiffAugment().check((2,))
    assert DiffAugment("translation").policy == "translation"


def test_every_discriminator_input_is_augmented(tmp_path):
    """With augment=diffaugment, D sees augmented reals and fakes in the D and the G step."""
    from hydra.utils import instantiate

    from gan_lab.build import build_module
    from tests.helpers import compose_train

    cfg = compose_train(["data=mnist", "model=dcgan", "augment=diffaugment",
                         "augment.policy=cutout",
                         "data.batch_size=4"], tmp_path)
    dm = instantiate(cfg.data, _convert_="all")
    module = build_module(cfg, dm.spec)
    seen = []
    module.discriminators["d"].register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    real, y = next(iter(dm.train_dataloader()))
    module.discriminator_loss("d", real, module.fake_for(real, y).detach(), y)
    module.generator_loss(real, y)
    # D step: reals and fakes; G step: fakes. Each sample has its cut-out hole (at least the
    # quarter of a 14x14 square that a corner leaves)
    assert len(seen) == 3
    assert all(((x == 0).flatten(1).sum(1) >= 7 * 7).all() for x in seen)
    toy = compose_train(["data=grid25", "model=gan", "augment=diffaugment"], tmp_path)
    with pytest.raises(ValueError, match="augment=none"):
        build_module(toy, instantiate(toy.data).spec)
