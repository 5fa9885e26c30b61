"""Video GANs: one generator of clips against any number of discriminators, each with its own
view of the clip, loss weight and optimizer.

VGAN (Vondrick et al. 2016) and TGAN (Saito et al. 2017) are one discriminator on the whole
clip; MoCoGAN (Tulyakov et al. 2018) an image discriminator on random frames plus a video
discriminator; DVD-GAN (Clark et al. 2019) a spatial discriminator on ``k`` random
full-resolution frames plus a temporal one on the downsampled clip. They differ only in config
(``conf/model/*.yaml``); the loop is :class:`~gan_lab.modules.base.GANModule`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from gan_lab.data.base import DataSpec
from gan_lab.modules.base import GANModule, OptimizerFactory
from gan_lab.modules.views import View, WholeClip
from gan_lab.nets.base import Generator

__all__ = ["DiscriminatorSpec", "VideoGAN"]


class DiscriminatorSpec:
    """One discriminator of a :class:`VideoGAN`: its net, what it sees, its weight, its optimizer.

    Args:
        net: factory ``f(data_shape=..., num_classes=...)`` of the net (a Hydra ``_partial_``
            config from ``conf/net/``); ``data_shape`` is the shape of one view.
        view: what the net sees of a clip (default :class:`~gan_lab.modules.views.WholeClip`).
        weight: factor of this discriminator's adversarial term in the generator's loss (the
            discriminator's own loss is not scaled).
        optimizer: its optimizer factory; ``None`` uses the model's ``d_optimizer``.
    """

    def __init__(
        self,
        net: Callable[..., nn.Module],
        view: View | None = None,
        weight: float = 1.0,
        optimizer: OptimizerFactory | None = None,
    ) -> None:
        if weight < 0:
            raise ValueError(f"DiscriminatorSpec: weight must be >= 0, got {weight}")
        self.net = net
        self.view = view if view is not None else WholeClip()
        self.weight = float(weight)
        self.optimizer = optimizer

    def __repr__(self) -> str:
        return f"DiscriminatorSpec(view={self.view!r}, weight={self.weight})"


class VideoGAN(GANModule):
    """A generator of clips ``(B, C, T, H, W)`` against discriminators on views of them.

    Each training step updates every discriminator in the order of ``discriminators`` (e.g.
    MoCoGAN's image D, then its video D), each on its own view of the same real batch and of the
    same generated batch, with its own optimizer; the regularizer (gradient penalty, R1, spectral
    norm, clipping) applies to each discriminator on its own view. After ``n_critic`` such steps
    the generator minimises ``Σ_d weight_d · L_G(D_d(view_d(G(z))))`` plus the auxiliary losses
    its net returns (:meth:`~gan_lab.nets.base.Generator.forward_with_losses`, e.g. VGAN's mask
    penalty).

    Args:
        generator: factory ``f(data_shape=..., num_classes=...)`` of the generator.
        discriminators: name -> :class:`DiscriminatorSpec`, in update order.
        spec: the data's :class:`~gan_lab.data.base.DataSpec` (video: ``(C, T, H, W)``).
        conditional: class-conditional G and D (MoCoGAN's action code); needs labelled data.
        **kwargs: the loop's settings, see :class:`GANModule` (``d_optimizer`` is the default
            optimizer of every discriminator).
    """

    def __init__(
        self,
        generator: Callable[..., Generator],
        discriminators: Mapping[str, DiscriminatorSpec],
        spec: DataSpec,
        conditional: bool = False,
        **kwargs,
    ) -> None:
        if spec.modality != "video":
            raise ValueError(
                f"VideoGAN trains on video clips (C, T, H, W); the data gives samples of shape "
                f"{spec.shape}. Use a video data set (data=moving_mnist, bouncing_shapes, "
                "video_folder)."
            )
        if not discriminators:
            raise ValueError("VideoGAN needs at least one discriminator (net.discriminators)")
        for name, d in discriminators.items():
            if not name or "." in name or hasattr(nn.ModuleDict(), name):
                raise ValueError(
                    f"net.discriminators.{name}: {name!r} cannot name a discriminator (it is "
                    "empty, holds a '.', or is an attribute of torch.nn.Module); rename the key, "
                    "e.g. net.discriminators.image / net.discriminators.video"
                )
            if not isinstance(d, DiscriminatorSpec):
                raise TypeError(
                    f"net.discriminators.{name} must be a DiscriminatorSpec (_target_: "
                    f"gan_lab.modules.DiscriminatorSpec), got {type(d).__name__}"
                )
        num_classes = spec.num_classes if conditional else 0
        nets = {
            name: d.net(data_shape=d.view.output_shape(spec.shape), num_classes=num_classes)
            for name, d in discriminators.items()
        }
        super().__init__(
            generator=generator(data_shape=spec.shape, num_classes=num_classes),
            discriminators=nets,
            spec=spec,
            conditional=conditional,
            **kwargs,
        )
        self.views = {name: d.view for name, d in discriminators.items()}
        self.d_weights = {name: d.weight for name, d in discriminators.items()}
        self._d_optimizers = {name: d.optimizer for name, d in discriminators.items()}

    def discriminator_optimizer(self, name: str) -> torch.optim.Optimizer:
        factory = self._d_optimizers[name] or self._d_optimizer
        return factory(self.discriminators[name].parameters())

    def fake_for(self, real: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.generate(len(real), self.labels(y))

    def discriminator_inputs(self, name, x, y, real):
        """Discriminator ``name``'s view of the clips, augmented (one transform per clip or,
        for a view of single frames, per frame)."""
        view, y_view = self.views[name](x, y)
        return self.augmented(view), self.labels(y_view)

    def generator_loss(self, real, y):
        z = self.generator.sample_latent(len(real))
        fake, aux_losses = self.generator.forward_with_losses(z, self.labels(y))
        total = fake.new_zeros((), dtype=torch.float32)
        stats: dict[str, torch.Tensor] = {}
        for name in self.discriminators:
            term = self.adversarial_g_loss(name, real, fake, y)
            total = total + self.d_weights[name] * term
            stats[f"adv_{name}"] = term.detach()
        for key, value in aux_losses.items():
            total = total + value
            stats[key] = value.detach()
        return total, stats
