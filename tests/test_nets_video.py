"""Video networks: the papers' shapes at full scale, their architectural facts, micro widths and
errors for shapes they cannot handle."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lab.modules.views import RandomFrames, SpatialDownsample, WholeClip
from gan_lab.nets.video import (
    DVDGANGenerator,
    DVDGANSpatialDiscriminator,
    DVDGANTemporalDiscriminator,
    MathieuDiscriminator,
    MathieuGenerator,
    MoCoGANGenerator,
    MoCoGANVideoDiscriminator,
    PatchImageDiscriminator,
    TGANGenerator,
    VGANDiscriminator,
    VGANGenerator,
)
from gan_lab.nets.video.mathieu import pool_clip


def first_convs(module: nn.Module, kind=nn.modules.conv._ConvNd) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


# ------------------------------------------------------------------ full scale, the papers' shapes
@torch.no_grad()
def test_vgan_full_scale():
    torch.manual_seed(0)
    g, d = VGANGenerator(data_shape=(3, 32, 64, 64)), VGANDiscriminator(data_shape=(3, 32, 64, 64))
    z = g.sample_latent(2)
    assert z.shape == (2, 100)
    video, losses = g.forward_with_losses(z)
    assert video.shape == (2, 3, 32, 64, 64) and video.abs().max() <= 1
    assert d(video).shape == (2,)
    # foreground channels 512-256-128-64 in 3-D transposed convs, kernel 4 stride 2 after the first
    tconvs = first_convs(g.video_stream, nn.ConvTranspose3d)
    assert [c.out_channels for c in tconvs] == [512, 256, 128, 64]
    assert all(c.kernel_size == (4, 4, 4) and c.stride == (2, 2, 2) for c in tconvs[1:])
    assert [c.out_channels for c in first_convs(d, nn.Conv3d)] == [64, 128, 256, 512, 1]
    # the output is m * f + (1 - m) * b, b static over time, and the penalty is 0.1 mean|m|
    f, m, b = g.streams(z)
    assert f.shape == (2, 3, 32, 64, 64) and m.shape == (2, 1, 32, 64, 64)
    assert b.shape == (2, 3, 64, 64)
    assert 0 <= m.min() and m.max() <= 1
    torch.testing.assert_close(video, m * f + (1 - m) * b[:, :, None])
    torch.testing.assert_close(losses["mask_l1"], 0.1 * m.abs().mean())


def test_vgan_discriminator_norms_and_activations():
    d = VGANDiscriminator(data_shape=(3, 32, 64, 64))
    norms = [m for m in d.modules() if isinstance(m, nn.BatchNorm3d)]
    assert [n.num_features for n in norms] == [128, 256, 512]  # every layer but the first
    slopes = {m.negative_slope for m in d.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}
    assert not any(isinstance(m, nn.BatchNorm3d) for m in VGANDiscriminator(
        data_shape=(3, 32, 64, 64), norm="layer").modules())


@torch.no_grad()
def test_tgan_full_scale():
    torch.manual_seed(0)
    g = TGANGenerator(data_shape=(3, 16, 64, 64))
    z = g.sample_latent(2)
    assert z.shape == (2, 100) and z.min() >= -1 and z.max() <= 1  # z0 ~ U[-1, 1]^100
    assert z.abs().max() > 0.5
    frame_latents = g.temporal(z)
    assert frame_latents.shape == (2, 100, 16)  # 16 frame latents z1_t of size 100
    assert frame_latents.abs().max() <= 1
    tconvs = first_convs(g.temporal, nn.ConvTranspose1d)
    assert [c.out_channels for c in tconvs] == [512, 256, 128, 128, 100]
    video = g(z)
    assert video.shape == (2, 3, 16, 64, 64) and video.abs().max() <= 1
    image_tconvs = first_convs(g.image, nn.ConvTranspose2d)
    assert [c.out_channels for c in image_tconvs] == [256, 128, 64, 32, 3]
    assert VGANDiscriminator(data_shape=(3, 16, 64, 64))(video).shape == (2,)


@torch.no_grad()
def test_tgan_frames_share_z0_and_differ_by_z1():
    g = TGANGenerator(data_shape=(1, 4, 32, 32), width=4).eval()
    z = g.sample_latent(2)
    video = g(z)
    z1 = g.temporal(z).transpose(1, 2)
    frame = g.image(z[1:2], z1[1, 2:3])
    torch.testing.assert_close(video[1:2, :, 2], frame)


@torch.no_grad()
def test_mocogan_full_scale():
    torch.manual_seed(0)
    g = MoCoGANGenerator(data_shape=(3, 16, 64, 64))
    assert g.latent_dim == 50 + 10 * 17  # content, initial GRU state, 16 motion noises
    assert isinstance(g.recurrent, nn.GRUCell) and g.recurrent.hidden_size == 10
    video = g(g.sample_latent(2))
    assert video.shape == (2, 3, 16, 64, 64) and video.abs().max() <= 1
    d_image = PatchImageDiscriminator(data_shape=RandomFrames(1).output_shape((3, 16, 64, 64)))
    d_video = MoCoGANVideoDiscriminator(data_shape=(3, 16, 64, 64))
    assert d_image(video[:, :, 0]).shape == (2, 16)  # 4x4 patch logits per frame
    assert d_video(video).shape == (2,)
    patch = MoCoGANVideoDiscriminator(data_shape=(3, 16, 64, 64), patch=True)
    assert patch(video).shape == (2, 4 * 4 * 4)


@torch.no_grad()
def test_mocogan_content_is_per_clip_and_motion_is_causal():
    g = MoCoGANGenerator(data_shape=(1, 6, 32, 32), width=4).eval()
    z = g.sample_latent(1)
    base = g(z)
    # changing the motion noise of frame 3 leaves frames 0-2 unchanged and changes frames 3-5
    z2 = z.clone()
    start = g.content_dim + g.motion_dim * (1 + 3)
    z2[:, start : start + g.motion_dim] += 1.0
    moved = g(z2)
    torch.testing.assert_close(moved[:, :, :3], base[:, :, :3])
    assert not torch.allclose(moved[:, :, 3:], base[:, :, 3:])
    # the content code is the same for every frame: the motion codes alone differ per frame
    motion = g.motion(z)
    assert motion.shape == (1, 6, 10)
    assert not torch.allclose(motion[:, 0], motion[:, 1])


@torch.no_grad()
def test_mocogan_action_code():
    g = MoCoGANGenerator(data_shape=(1, 16, 32, 32), num_classes=3, width=4).eval()
    z = g.sample_latent(2)
    a, b = g(z, torch.tensor([0, 0])), g(z, torch.tensor([0, 2]))
    torch.testing.assert_close(a[0], b[0])
    assert not torch.allclose(a[1], b[1])
    with pytest.raises(ValueError, match="pass y"):
        g(z)
    d = MoCoGANVideoDiscriminator(data_shape=(1, 16, 32, 32), num_classes=3, width=4)
    assert d(a, torch.tensor([0, 1])).shape == (2,)


@torch.no_grad()
def test_mocogan_instance_noise_only_while_training():
    from gan_lab.nets.video.mocogan import InstanceNoise

    x = torch.randn(2, 1, 16, 32, 32)
    for d in (MoCoGANVideoDiscriminator(data_shape=(1, 16, 32, 32), width=4, noise_sigma=0.1),
              PatchImageDiscriminator(data_shape=(1, 32, 32), width=4, noise_sigma=0.1)):
        x_d = x if isinstance(d, MoCoGANVideoDiscriminator) else x[:, :, 0]
        assert sum(isinstance(m, InstanceNoise) for m in d.modules()) in (3, 4)
        assert not torch.equal(d(x_d), d(x_d))  # a new draw of noise at every call
        d.eval()
        assert torch.equal(d(x_d), d(x_d))
    quiet = MoCoGANVideoDiscriminator(data_shape=(1, 16, 32, 32), width=4)
    assert torch.equal(quiet(x), quiet(x))  # noise_sigma=0: deterministic


@torch.no_grad()
def test_dvdgan_full_scale():
    torch.manual_seed(0)
    g = DVDGANGenerator(data_shape=(3, 16, 64, 64), width=16)
    video = g(g.sample_latent(2))
    assert video.shape == (2, 3, 16, 64, 64) and video.abs().max() <= 1
    spatial_shape = RandomFrames(8, flatten=False).output_shape((3, 16, 64, 64))
    temporal_shape = SpatialDownsample(2).output_shape((3, 16, 64, 64))
    d_s = DVDGANSpatialDiscriminator(data_shape=spatial_shape, width=16)
    d_t = DVDGANTemporalDiscriminator(data_shape=temporal_shape, width=16)
    assert d_s(video[:, :, :8]).shape == (2,)
    assert d_t(F.avg_pool3d(video, (1, 2, 2))).shape == (2,)
    assert len(g.grus) == 4  # one ConvGRU per resolution 4, 8, 16, 32 -> 64


@torch.no_grad()
def test_dvdgan_spatial_score_is_the_sum_of_frame_scores():
    d = DVDGANSpatialDiscriminator(data_shape=(1, 3, 32, 32), width=4).eval()
    frames = torch.randn(2, 1, 3, 32, 32)
    per_frame = [d(frames[:, :, i : i + 1]) for i in range(3)]
    torch.testing.assert_close(d(frames), sum(per_frame))


@torch.no_grad()
def test_dvdgan_generator_is_spectrally_normalized_and_conditional():
    from torch.nn.utils.parametrize import is_parametrized

    g = DVDGANGenerator(data_shape=(1, 4, 16, 16), num_classes=5, width=4)
    assert all(is_parametrized(c, "weight") for c in first_convs(g))
    assert g(g.sample_latent(2), torch.tensor([1, 4])).shape == (2, 1, 4, 16, 16)
    plain = DVDGANGenerator(data_shape=(1, 4, 16, 16), width=4, spectral_norm=False)
    assert not any(is_parametrized(c, "weight") for c in first_convs(plain))


@torch.no_grad()
def test_mathieu_full_scale_pyramid_and_discriminator():
    torch.manual_seed(0)
    g = MathieuGenerator(data_shape=(3, 20, 64, 64))
    context = torch.rand(2, 3, 4, 32, 32) * 2 - 1
    pyramid = g.pyramid(context)
    assert [tuple(p.shape) for p in pyramid] == [(2, 3, 1, s, s) for s in (4, 8, 16, 32)]
    assert all(p.abs().max() <= 1 for p in pyramid)
    assert g(torch.zeros(1, 3, 4, 64, 64)).shape == (1, 3, 1, 64, 64)  # fully convolutional
    maps = [[c.out_channels for c in first_convs(net)] for net in g.nets]
    assert maps == [[128, 256, 128, 3], [128, 256, 128, 3], [128, 256, 512, 256, 128, 3],
                    [128, 256, 512, 256, 128, 3]]
    d = MathieuDiscriminator(data_shape=(3, 5, 32, 32))
    clips = [torch.cat([pool_clip(context, 2 ** (3 - s)), p], dim=2) for s, p in enumerate(pyramid)]
    assert d(clips).shape == (2, 4)
    fc = [[m.out_features for m in net if isinstance(m, nn.Linear)] for net in d.nets]
    assert fc == [[512, 256, 1], [1024, 512, 1], [1024, 512, 1], [1024, 512, 1]]


@torch.no_grad()
def test_mathieu_coarse_prediction_guides_the_next_scale():
    g = MathieuGenerator(data_shape=(1, 8, 16, 16), scales=2, width=8).eval()
    for p in g.nets[1].parameters():  # a fine network that adds nothing ...
        p.zero_()
    coarse, fine = g.pyramid(torch.randn(1, 1, 4, 16, 16))
    # ... leaves tanh(upsampled coarse prediction)
    up = F.interpolate(coarse[:, :, 0], scale_factor=2, mode="nearest")
    torch.testing.assert_close(fine[:, :, 0], torch.tanh(up))


# ------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("factory", "shape", "match"),
    [
        (VGANGenerator, (3, 20, 64, 64), "multiple of 16"),
        (VGANDiscriminator, (3, 16, 48, 48), "power of two"),
        (TGANGenerator, (3, 12, 64, 64), "number of frames 12"),
        (MoCoGANGenerator, (3, 16, 64), r"\(C, T, H, W\)"),
        (MoCoGANVideoDiscriminator, (3, 8, 64, 64), "too short"),
        (DVDGANTemporalDiscriminator, (3, 6, 32, 32), "multiple of 4 frames"),
        (MathieuDiscriminator, (3, 5, 16, 16), "too small"),
    ],
)
def test_nets_name_the_shape_they_cannot_handle(factory, shape, match):
    with pytest.raises(ValueError, match=match):
        factory(data_shape=shape)


def test_unconditional_papers_refuse_labels():
    with pytest.raises(ValueError, match="unconditional"):
        VGANGenerator(data_shape=(3, 32, 64, 64), num_classes=10)


MICRO = {
    "vgan": (
        lambda: VGANGenerator(data_shape=(1, 16, 32, 32), width=8),
        lambda: VGANDiscriminator(data_shape=(1, 16, 32, 32), width=8),
        WholeClip(),
    ),
    "tgan": (
        lambda: TGANGenerator(data_shape=(1, 16, 32, 32), width=8),
        lambda: VGANDiscriminator(data_shape=(1, 16, 32, 32), width=8),
        WholeClip(),
    ),
    "mocogan": (
        lambda: MoCoGANGenerator(data_shape=(1, 16, 32, 32), width=8),
        lambda: MoCoGANVideoDiscriminator(data_shape=(1, 16, 32, 32), width=8),
        WholeClip(),
    ),
    "dvdgan": (
        lambda: DVDGANGenerator(data_shape=(1, 16, 32, 32), width=4),
        lambda: DVDGANTemporalDiscriminator(data_shape=(1, 16, 16, 16), width=4),
        SpatialDownsample(2),
    ),
}


@pytest.mark.parametrize("name", MICRO)
def test_micro_widths_are_small_and_train_end_to_end(name):
    make_g, make_d, view = MICRO[name]
    g, d = make_g(), make_d()
    params = sum(p.numel() for p in g.parameters()) + sum(p.numel() for p in d.parameters())
    assert params < 300_000
    d(view(g(g.sample_latent(2)))[0]).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def test_sprite_generator_draws_sprites_along_bouncing_paths():
    from gan_lab.nets.video.sprites import SpriteVideoGenerator, reflect

    g = SpriteVideoGenerator((1, 8, 64, 64), width=8)
    sprite = torch.zeros(1, 1, 28, 28)
    sprite[0, 0, 0, 0] = sprite[0, 0, 27, 27] = 1
    frames = g.render(sprite, torch.tensor([[[0.0, 0.0], [10.0, 20.0], [36.0, 36.0]]]))
    for t, (y, x) in enumerate([(0, 0), (10, 20), (36, 36)]):
        assert (frames[0, t, 0] > 0.5).nonzero().tolist() == [[y, x], [y + 27, x + 27]]
    # at half resolution a sprite is drawn at half size: the 64x64 drawing averaged down
    half = SpriteVideoGenerator((1, 8, 32, 32), width=8)
    ink = torch.rand(1, 1, 28, 28)
    big = g.render(ink, torch.tensor([[[10.0, 20.0]]]))[0, 0]
    small = half.render(ink, torch.tensor([[[5.0, 10.0]]]))[0, 0]
    torch.testing.assert_close(torch.nn.functional.avg_pool2d(big, 2), small, atol=1e-5, rtol=0)
    # ... but at half-pixel positions it samples one pixel in four; with antialias the sprite is
    # drawn on the 64x64 canvas and averaged down, the data's process, at every position
    smooth = SpriteVideoGenerator((1, 8, 32, 32), width=8, antialias=True)
    assert smooth.supersample == 2

    def pooled(frames):
        return torch.nn.functional.avg_pool2d(frames[0, 0], 2)

    for y, x in ((5.0, 10.0), (5.5, 10.5), (5.25, 9.75)):
        big = g.render(ink, torch.tensor([[[2 * y, 2 * x]]]))
        torch.testing.assert_close(pooled(smooth.render(ink, torch.tensor([[[y, x]]]))),
                                   pooled(big), atol=1e-5, rtol=0)
    # so a one-pixel stroke keeps its ink (a quarter of it at half size) wherever it is drawn;
    # sampled at stride 2 it can vanish
    dot = torch.zeros(1, 1, 28, 28)
    dot[0, 0, 13, 13] = 1
    for p in (5.0, 5.25, 5.5, 5.75):
        ink_drawn = pooled(smooth.render(dot, torch.tensor([[[p, p + 0.5]]]))).sum()
        torch.testing.assert_close(ink_drawn, torch.tensor(0.25), atol=1e-5, rtol=0)
    assert half.render(dot, torch.tensor([[[5.25, 5.25]]])).sum() < 0.2
    assert smooth(smooth.sample_latent(2)).shape == (2, 1, 8, 32, 32)
    with pytest.raises(ValueError, match="sprite_size"):
        SpriteVideoGenerator((1, 8, 32, 32), sprite_size=12, antialias=True)
    # the broadcast grid is affine_grid's for a scaled translation, at sub-pixel positions too
    paths = torch.tensor([[[3.3, 7.8], [0.5, 35.9]]])
    theta = torch.zeros(2, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 64 / 28
    theta[:, 0, 2] = (64 - 2 * paths[0, :, 1]) / 28 - 1
    theta[:, 1, 2] = (64 - 2 * paths[0, :, 0]) / 28 - 1
    grid = torch.nn.functional.affine_grid(theta, [2, 1, 64, 64], align_corners=False)
    expected = torch.nn.functional.grid_sample(ink.expand(2, -1, -1, -1), grid, align_corners=False)
    torch.testing.assert_close(g.render(ink, paths)[0], expected, atol=1e-5, rtol=0)
    assert reflect(torch.tensor([-1.0, 5.0, 37.0, 80.0]), 36.0).tolist() == [1.0, 5.0, 35.0, 8.0]
    z = g.sample_latent(3)
    clips = g(z)
    assert clips.shape == (3, 1, 8, 64, 64) and clips.min() >= -1 and clips.max() <= 1
    paths = g.paths(z.reshape(6, -1))
    assert paths.shape == (6, 8, 2) and (paths >= 0).all() and (paths <= 36).all()
    clips.mean().backward()
    assert all(p.grad is not None for p in g.parameters())
