"""Discriminator regularizers: pure functions, and classes with hooks for the training loop.

Pure functions:
    * :func:`gradient_penalty` - WGAN-GP, Gulrajani et al. 2017, arXiv:1704.00028.
    * :func:`clip_weights_` - weight clipping of WGAN, Arjovsky et al. 2017, arXiv:1701.07875.
    * :func:`clip_singular_values_` - singular value clipping of TGAN, Saito, Matsumoto & Saito
      2017, arXiv:1611.06624.

Zero-centred penalties (R1, R2) live in :mod:`gan_lab.losses.zero_centered`, LeCam's
regularizer in :mod:`gan_lab.losses.lecam`.

Gradient penalties are always computed in float32: inputs are cast to float and D runs with autocast
disabled, so the double backward is not done in bf16/fp16 (D's parameters are float32 under
mixed precision, so D itself is unchanged). The discriminator is called as ``D(x, y)`` when labels
are given, else ``D(x)``; it returns logits ``(B,)``. Inputs may be vectors ``(B, D)``, images
``(B, C, H, W)`` or videos ``(B, C, T, H, W)``.

Classes share :class:`Regularizer`, whose three hooks the training scheme calls:
``prepare(D)`` once when the model is built, ``penalty(D, inputs)`` added to each D loss (with
:class:`DiscriminatorInputs`: what that D update saw, and its logits), ``after_step(D, step)``
after each D optimizer step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrize import is_parametrized

from gan_lab.nets.layers import apply_spectral_norm

__all__ = [
    "DiscriminatorInputs",
    "Regularizer",
    "NoRegularizer",
    "GradientPenalty",
    "WeightClipping",
    "SpectralNorm",
    "SingularValueClipping",
    "gradient_penalty",
    "clip_weights_",
    "clip_singular_values_",
    "reject_batchnorm",
]

def _call(discriminator: nn.Module, x: Tensor, y: Tensor | None) -> Tensor:
    return discriminator(x) if y is None else discriminator(x, y)


def gradient_penalty(
    discriminator: nn.Module,
    real: Tensor,
    fake: Tensor,
    y: Tensor | None = None,
    center: float = 1.0,
    eps: Tensor | None = None,
) -> Tensor:
    """WGAN-GP penalty ``E[(‖∇ D(x̂)‖₂ - center)²]`` (Gulrajani et al. 2017, eq. 3, without λ).

    ``x̂ = ε x + (1 - ε) x̃`` with one ``ε ~ U[0, 1]`` per sample, broadcast over all non-batch
    dimensions. Both inputs are detached (the penalty trains D only); the graph of the gradient is
    kept (``create_graph=True``) so the penalty can be back-propagated into D's parameters.

    Args:
        discriminator: returns logits ``(B,)``.
        real: ``(B, *S)`` real samples.
        fake: ``(B, *S)`` generated samples.
        y: optional labels ``(B,)``, passed to D with the interpolates.
        center: target gradient norm (1 in the paper; 0 gives a zero-centred GP).
        eps: optional ``(B,)`` interpolation weights (drawn uniformly when ``None``).

    Returns:
        A float32 scalar.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"gradient_penalty needs real and fake of the same shape, "
            f"got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    real = real.detach().float()
    fake = fake.detach().float()
    batch = real.shape[0]
    if eps is None:
        eps = torch.rand(batch, device=real.device)
    eps = eps.to(device=real.device, dtype=torch.float32).reshape(batch, *([1] * (real.dim() - 1)))
    x_hat = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
    with torch.autocast(device_type=x_hat.device.type, enabled=False):
        out = _call(discriminator, x_hat, y)
        (grad,) = torch.autograd.grad(out.float().sum(), x_hat, create_graph=True)
        norm = torch.linalg.vector_norm(grad.flatten(1), ord=2, dim=1)
        return (norm - center).pow(2).mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, clip: float) -> None:
    """Clamp every parameter of ``module`` to ``[-clip, clip]`` in place (WGAN, Algorithm 1)."""
    if clip <= 0:
        raise ValueError(f"weight clipping needs clip > 0, got {clip}")
    for p in module.parameters():
        p.clamp_(-clip, clip)


# Layers whose weight singular value clipping constrains (a linear map once reshaped).
SVC_LAYERS: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


@torch.no_grad()
def clip_singular_values_(module: nn.Module, bound: float = 1.0) -> None:
    """Singular value clipping (Saito et al. 2017, §3.3), in place.

    * Every convolution and linear weight ``W``, reshaped to ``(out_channels, -1)`` (the
      matrix the layer applies to each input patch), is replaced by ``U min(Σ, bound) Vᵀ``
      from its SVD: its spectral norm becomes at most ``bound``.
    * Every BatchNorm scale ``γ`` is clamped to ``[0.01 σ, σ]`` with ``σ`` the square root of
      the running variance (the authors' code), so the normalization ``γ x / σ`` has gain at
      most 1 and never collapses to 0.

    The SVD is computed in float64. Spectrally normalized (parametrized) weights are skipped.
    """
    if bound <= 0:
        raise ValueError(f"singular value clipping needs bound > 0, got {bound}")
    for m in module.modules():
        if isinstance(m, SVC_LAYERS) and not is_parametrized(m, "weight"):
            w = m.weight
            u, sigma, vh = torch.linalg.svd(w.reshape(w.shape[0], -1).double(), full_matrices=False)
            clipped = (u * sigma.clamp(max=bound)) @ vh
            w.copy_(clipped.reshape(w.shape).to(w.dtype))
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine and m.track_running_stats:
            std = m.running_var.sqrt()
            m.weight.copy_(torch.maximum(torch.minimum(m.weight, std), 0.01 * std))


def _first_batchnorm(module: nn.Module) -> str | None:
    for name, m in module.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            return name or type(m).__name__
    return None


def reject_batchnorm(regularizer: str, discriminator: nn.Module) -> None:
    """Raise a ValueError naming the first BatchNorm layer of ``discriminator``, if any: a
    per-sample gradient penalty is not valid with batch statistics."""
    name = _first_batchnorm(discriminator)
    if name is not None:
        raise ValueError(
            f"{regularizer} penalises the gradient of D per sample, which is not valid when D "
            f"uses BatchNorm (batch statistics couple the samples; Gulrajani et al. 2017, §4); "
            f"found BatchNorm at {name!r}. Set the discriminator's norm to none or layer "
            "(d_norm=none for the DCGAN and MoCoGAN nets)."
        )


@dataclass(frozen=True)
class DiscriminatorInputs:
    """What one discriminator update saw, for :meth:`Regularizer.penalty`.

    Attributes:
        real, fake: D's inputs ``(B, *S)`` (after any augmentation; fakes detached).
        labels: the labels D was given, or ``None``.
        real_logits, fake_logits: D's outputs on them (with gradients into D).
        step: the number of D updates before this one (0 for the first).
    """

    real: Tensor
    fake: Tensor
    labels: Tensor | None
    real_logits: Tensor
    fake_logits: Tensor
    step: int = 0


class Regularizer:
    """Base regularizer: every hook is a no-op.

    Attributes:
        input_gradients: whether :meth:`penalty` differentiates D with respect to its input
            (gradient penalties), which needs D to take one tensor per sample.
    """

    input_gradients: bool = False

    def prepare(self, discriminator: nn.Module) -> nn.Module:
        """Called once when the model is built; returns the (possibly wrapped) discriminator."""
        return discriminator

    def penalty(self, discriminator: nn.Module, inputs: DiscriminatorInputs) -> Tensor | None:
        """A term added to the D loss, or ``None``."""
        return None

    def after_step(self, discriminator: nn.Module, step: int) -> None:
        """Called after every D optimizer step; ``step`` counts D steps so far."""
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class NoRegularizer(Regularizer):
    """No regularization."""


class GradientPenalty(Regularizer):
    """WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028): ``weight * gradient_penalty``.

    Args:
        weight: λ (10 in the paper).
        center: target gradient norm (1 in the paper).
    """

    input_gradients = True

    def __init__(self, weight: float = 10.0, center: float = 1.0) -> None:
        self.weight = float(weight)
        self.center = float(center)

    def prepare(self, discriminator: nn.Module) -> nn.Module:
        reject_batchnorm(type(self).__name__, discriminator)
        return discriminator

    def penalty(self, discriminator: nn.Module, inputs: DiscriminatorInputs) -> Tensor:
        return self.weight * gradient_penalty(
            discriminator, inputs.real, inputs.fake, inputs.labels, center=self.center
        )


class WeightClipping(Regularizer):
    """WGAN weight clipping (Arjovsky et al. 2017): clamp D's parameters after each D step.

    Also clamps once in :meth:`prepare`, so the first D step already sees clipped weights (the
    reference code clamps before every critic iteration, which is the same sequence).

    Args:
        clip: c (0.01 in the paper).
    """

    def __init__(self, clip: float = 0.01) -> None:
        if clip <= 0:
            raise ValueError(f"WeightClipping needs clip > 0, got {clip}")
        self.clip = float(clip)

    def prepare(self, discriminator: nn.Module) -> nn.Module:
        clip_weights_(discriminator, self.clip)
        return discriminator

    def after_step(self, discriminator: nn.Module, step: int) -> None:
        clip_weights_(discriminator, self.clip)


class SingularValueClipping(Regularizer):
    """TGAN's singular value clipping (Saito, Matsumoto & Saito 2017, arXiv:1611.06624):
    :func:`clip_singular_values_` on D every ``every`` D steps (5 in the paper), and once in
    :meth:`prepare`, so training starts inside the constraint.

    Args:
        every: clip after every ``every``-th D step.
        bound: the largest singular value kept (1 in the paper).
    """

    def __init__(self, every: int = 5, bound: float = 1.0) -> None:
        if every < 1:
            raise ValueError(f"SingularValueClipping: every must be >= 1, got {every}")
        if bound <= 0:
            raise ValueError(f"SingularValueClipping: bound must be > 0, got {bound}")
        self.every = int(every)
        self.bound = float(bound)

    def prepare(self, discriminator: nn.Module) -> nn.Module:
        clip_singular_values_(discriminator, self.bound)
        return discriminator

    def after_step(self, discriminator: nn.Module, step: int) -> None:
        if step % self.every == 0:
            clip_singular_values_(discriminator, self.bound)


class SpectralNorm(Regularizer):
    """Spectral normalization of every conv/linear/embedding weight in D (Miyato et al. 2018,
    arXiv:1802.05957; :func:`~gan_lab.nets.layers.apply_spectral_norm`), applied once in
    :meth:`prepare`."""

    def prepare(self, discriminator: nn.Module) -> nn.Module:
        return apply_spectral_norm(discriminator)
