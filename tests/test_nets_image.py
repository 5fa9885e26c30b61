"""MLP and DCGAN networks: shapes at every resolution, ranges, conditioning, DCGAN's architecture
guidelines, initialisation and errors for shapes they cannot handle."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lab.losses import GradientPenalty, gradient_penalty
from gan_lab.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    Discriminator,
    Generator,
    Maxout,
    MLPDiscriminator,
    MLPGenerator,
    ProjectionHead,
    make_norm,
)

RESOLUTIONS = (28, 32, 64)
CHANNELS = (1, 3)
NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)


def norms_in(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, NORMS)]


def make_pair(kind: str, shape, num_classes: int = 0):
    if kind == "dcgan":
        g = DCGANGenerator(data_shape=shape, num_classes=num_classes, latent_dim=16, width=8)
        d = DCGANDiscriminator(data_shape=shape, num_classes=num_classes, width=8)
    else:
        g = MLPGenerator(data_shape=shape, num_classes=num_classes, latent_dim=16, hidden_dim=32)
        d = MLPDiscriminator(data_shape=shape, num_classes=num_classes, hidden_dim=32)
    return g, d


@pytest.mark.parametrize("kind", ["dcgan", "mlp"])
@pytest.mark.parametrize("res", RESOLUTIONS)
@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("num_classes", [0, 10])
def test_image_shapes_and_range(kind, res, channels, num_classes):
    torch.manual_seed(0)
    shape = (channels, res, res)
    g, d = make_pair(kind, shape, num_classes)
    assert isinstance(g, Generator) and isinstance(d, Discriminator)
    z = 5 * g.sample_latent(3)  # large latents: tanh must still bound the output
    y = torch.tensor([0, 4, 9]) if num_classes else None
    x = g(z, y)
    assert x.shape == (3, *shape)
    assert x.abs().max() <= 1.0
    logits = d(x, y)
    assert logits.shape == (3,)
    assert logits.dtype == torch.float32


def test_mlp_on_vectors():
    g = MLPGenerator(data_shape=[2], latent_dim=2, norm="batch")
    d = MLPDiscriminator(data_shape=[2], activation="maxout", norm="layer", dropout=0.2)
    z = g.sample_latent(4)
    assert z.shape == (4, 2)
    x = g(z)
    assert x.shape == (4, 2) and d(x).shape == (4,)
    assert any(isinstance(m, nn.BatchNorm1d) for m in g.modules())
    assert sum(isinstance(m, Maxout) for m in d.modules()) == 3
    assert any(isinstance(m, nn.Dropout) for m in d.modules())
    unbounded = MLPGenerator(data_shape=[2], out_activation="none")
    assert not any(isinstance(m, nn.Tanh) for m in unbounded.modules())


def test_maxout_is_max_over_pieces():
    m = Maxout(2, 1, pieces=3)
    with torch.no_grad():
        m.linear.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        m.linear.bias.zero_()
    x = torch.tensor([[2.0, -1.0], [-3.0, -4.0]])
    torch.testing.assert_close(m(x), torch.tensor([[2.0], [7.0]]))


def test_projection_head_formula():
    head = ProjectionHead(3, num_classes=2)
    with torch.no_grad():
        head.linear.weight.copy_(torch.tensor([[1.0, 2.0, 3.0]]))
        head.linear.bias.fill_(0.5)
        head.embed.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]))
    phi = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, 1.0]])
    # psi(phi) = [6.5, 5.5]; <embed(y), phi> with y = [0, 1]: [1, -1]
    torch.testing.assert_close(head(phi, torch.tensor([0, 1])), torch.tensor([7.5, 4.5]))
    with pytest.raises(ValueError, match="pass labels y"):
        head(phi)


@pytest.mark.parametrize("kind", ["dcgan", "mlp"])
def test_conditional_nets_use_the_label(kind):
    torch.manual_seed(1)
    g, d = make_pair(kind, (1, 28, 28), num_classes=10)
    g.eval(), d.eval()
    z = g.sample_latent(2)
    z = torch.cat([z[:1], z[:1]])  # same latent twice
    x = g(z, torch.tensor([3, 7]))
    assert not torch.allclose(x[0], x[1], atol=1e-4)
    xx = torch.cat([x[:1], x[:1]])
    logits = d(xx, torch.tensor([3, 7]))
    assert not torch.allclose(logits[0], logits[1])
    with pytest.raises(ValueError, match="class-conditional"):
        g(z)
    with pytest.raises(ValueError, match="class-conditional"):
        d(xx)


def test_dcgan_projection_discriminator_formula():
    torch.manual_seed(2)
    d = DCGANDiscriminator(data_shape=(3, 32, 32), num_classes=5, width=8).eval()
    x = torch.randn(2, 3, 32, 32)
    y = torch.tensor([1, 4])
    h = d.blocks(x)
    phi = h.sum(dim=(2, 3))  # global sum pooling of the last feature map
    expected = d.out(h).view(2) + (d.projection.embed(y) * phi).sum(1)
    torch.testing.assert_close(d(x, y), expected)


def test_unconditional_nets_ignore_labels():
    torch.manual_seed(3)
    for kind in ("dcgan", "mlp"):
        g, d = make_pair(kind, (3, 32, 32))
        g.eval(), d.eval()
        z, y = g.sample_latent(2), torch.tensor([0, 0])
        torch.testing.assert_close(g(z), g(z, y))
        x = g(z)
        torch.testing.assert_close(d(x), d(x, y))


@pytest.mark.parametrize("res", RESOLUTIONS)
def test_dcgan_follows_the_architecture_guidelines(res):
    g = DCGANGenerator(data_shape=(3, res, res), width=8)
    d = DCGANDiscriminator(data_shape=(3, res, res), width=8)
    # BatchNorm on every G layer but the output; tanh output
    assert not norms_in(g.blocks[-1]) and isinstance(g.blocks[-1][-1], nn.Tanh)
    assert all(isinstance(m, nn.BatchNorm2d) for b in g.blocks[:-1] for m in norms_in(b))
    assert all(len(norms_in(b)) == 1 for b in g.blocks[:-1])
    assert all(isinstance(b[-1], nn.ReLU) for b in g.blocks[:-1])
    # BatchNorm on every D layer but the input; LeakyReLU(0.2)
    assert not norms_in(d.blocks[0])
    assert all(len(norms_in(b)) == 1 for b in d.blocks[1:])
    assert all(isinstance(b[-1], nn.LeakyReLU) and b[-1].negative_slope == 0.2 for b in d.blocks)
    # first G layer: transposed conv on the 1x1 latent; D ends with a conv to 1x1; no pooling or
    # fully connected layers
    assert isinstance(g.blocks[0][0], nn.ConvTranspose2d)
    assert d.out(d.blocks(torch.zeros(1, 3, res, res))).shape == (1, 1, 1, 1)
    for net in (g, d):
        for m in net.modules():
            assert not isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d))
    # intermediate sizes of G: 28 goes 1 -> 7 -> 14 -> 28, 32/64 start at 4 and double
    sizes, h = [], g.sample_latent(1).view(1, -1, 1, 1)
    for block in g.blocks:
        h = block(h)
        sizes.append(h.shape[-1])
    expected = {28: [7, 14, 28], 32: [4, 8, 16, 32], 64: [4, 8, 16, 32, 64]}[res]
    assert sizes == expected


def test_dcgan_channel_plan_uses_width():
    g = DCGANGenerator(data_shape=(1, 64, 64), width=16)
    assert [b[0].out_channels for b in g.blocks] == [128, 64, 32, 16, 1]
    d = DCGANDiscriminator(data_shape=(1, 64, 64), width=16)
    assert [b[0].out_channels for b in d.blocks] == [16, 32, 64, 128]
    assert d.out.in_channels == 128
    g28 = DCGANGenerator(data_shape=(1, 28, 28))
    assert [b[0].out_channels for b in g28.blocks] == [128, 64, 1]


def test_dcgan_init_std():
    torch.manual_seed(4)
    g = DCGANGenerator(data_shape=(3, 64, 64))
    d = DCGANDiscriminator(data_shape=(3, 64, 64))
    for net in (g, d):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.weight.numel() > 10_000:
                assert m.weight.mean().item() == pytest.approx(0.0, abs=2e-3)
                assert m.weight.std().item() == pytest.approx(0.02, rel=0.05)
            if isinstance(m, nn.BatchNorm2d):
                assert m.weight.mean().item() == pytest.approx(1.0, abs=0.01)
                assert m.weight.std().item() == pytest.approx(0.02, rel=0.5)
            if getattr(m, "bias", None) is not None:
                assert torch.all(m.bias == 0)


@pytest.mark.parametrize("norm", ["layer", "group", "none"])
def test_dcgan_discriminator_norm_options(norm):
    d = DCGANDiscriminator(data_shape=(1, 28, 28), width=8, norm=norm)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())
    found = norms_in(d)
    if norm == "none":
        assert not found
    else:
        assert len(found) == len(d.blocks) - 1
        assert all(isinstance(m, nn.GroupNorm) for m in found)
        expected = [1 if norm == "layer" else math.gcd(m.num_channels, 32) for m in found]
        assert [m.num_groups for m in found] == expected
        assert norm == "layer" or min(expected) > 1
    # per-sample D: WGAN-GP accepts it and the penalty back-propagates through it
    GradientPenalty().prepare(d)
    x = torch.randn(2, 1, 28, 28)
    gp = gradient_penalty(d, x, torch.randn_like(x))
    gp.backward()
    assert d.blocks[0][0].weight.grad is not None


def test_layer_norm_on_maps_is_layer_norm_over_chw():
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(make_norm("layer", 4, 2)(x), F.layer_norm(x, (4, 3, 3)))
    assert isinstance(make_norm("layer", 4, 0), nn.LayerNorm)
    assert isinstance(make_norm("batch", 4, 3), nn.BatchNorm3d)
    assert isinstance(make_norm("none", 4, 2), nn.Identity)


def test_sample_latent_prior_device_and_seed():
    g = DCGANGenerator(data_shape=(1, 28, 28), latent_dim=7, width=8)
    a = g.sample_latent(5, generator=torch.Generator().manual_seed(0))
    b = g.sample_latent(5, generator=torch.Generator().manual_seed(0))
    assert a.shape == (5, 7) and a.device == next(g.parameters()).device
    torch.testing.assert_close(a, b)
    u = MLPGenerator(data_shape=(2,), latent_dim=1000, prior="uniform").sample_latent(4)
    assert u.min() >= -1 and u.max() <= 1 and u.min() < -0.9 and u.max() > 0.9
    n = MLPGenerator(data_shape=(2,), latent_dim=1000).sample_latent(4)
    assert n.abs().max() > 1.5  # N(0, 1), not uniform


@pytest.mark.parametrize("cls", [DCGANGenerator, DCGANDiscriminator])
@pytest.mark.parametrize(
    "shape", [(2,), (3, 48, 48), (3, 32, 64), (3, 16, 64, 64), (32, 32)], ids=str
)
def test_dcgan_rejects_unsupported_shapes(cls, shape):
    with pytest.raises(ValueError) as err:
        cls(data_shape=shape)
    msg = str(err.value)
    assert cls.__name__ in msg and str(tuple(shape)) in msg and "(28, 32, 64)" in msg


def test_bad_options_fail_with_their_name():
    with pytest.raises(ValueError, match="norm='batch'"):
        MLPDiscriminator(data_shape=(2,), norm="batch")
    with pytest.raises(ValueError, match="activation='tanh'"):
        MLPDiscriminator(data_shape=(2,), activation="tanh")
    with pytest.raises(ValueError, match="norm='instance'"):
        DCGANDiscriminator(data_shape=(1, 28, 28), norm="instance")
    with pytest.raises(ValueError, match="prior='cauchy'"):
        DCGANGenerator(data_shape=(1, 28, 28), prior="cauchy")
    with pytest.raises(ValueError, match="data_shape"):
        MLPGenerator(data_shape=())
    # no **kwargs: an unknown (e.g. misspelt) Hydra key fails naming it
    with pytest.raises(TypeError, match="widht"):
        DCGANGenerator(data_shape=(1, 28, 28), widht=32)
    with pytest.raises(TypeError, match="hidden"):
        MLPDiscriminator(data_shape=(2,), hidden=32)
