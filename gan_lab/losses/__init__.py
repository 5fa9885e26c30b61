"""Adversarial losses, reconstruction losses, discriminator regularizers and DiffAugment (pure
functions and thin Hydra classes)."""

from gan_lab.losses.adversarial import (
    AdversarialLoss,
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)
from gan_lab.losses.diffaugment import DiffAugment
from gan_lab.losses.lecam import LeCam, lecam_penalty
from gan_lab.losses.reconstruction import gradient_difference_loss, lp_loss
from gan_lab.losses.regularizers import (
    DiscriminatorInputs,
    GradientPenalty,
    NoRegularizer,
    Regularizer,
    SingularValueClipping,
    SpectralNorm,
    WeightClipping,
    clip_singular_values_,
    clip_weights_,
    gradient_penalty,
)
from gan_lab.losses.relativistic import (
    RelativisticPairingLoss,
    relativistic_discriminator_loss,
    relativistic_generator_loss,
)
from gan_lab.losses.zero_centered import ZeroCenteredGradientPenalty, zero_centered_gradient_penalty

__all__ = [
    "AdversarialLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "LeastSquaresLoss",
    "WassersteinLoss",
    "HingeLoss",
    "RelativisticPairingLoss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "relativistic_discriminator_loss",
    "relativistic_generator_loss",
    "lp_loss",
    "gradient_difference_loss",
    "DiffAugment",
    "DiscriminatorInputs",
    "Regularizer",
    "NoRegularizer",
    "GradientPenalty",
    "ZeroCenteredGradientPenalty",
    "LeCam",
    "WeightClipping",
    "SpectralNorm",
    "SingularValueClipping",
    "gradient_penalty",
    "zero_centered_gradient_penalty",
    "lecam_penalty",
    "clip_weights_",
    "clip_singular_values_",
]
