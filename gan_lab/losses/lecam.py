"""LeCam regularization of the discriminator with moving-average anchors.

Tseng, Jiang, Liu, Yang & Yang 2021, "Regularizing Generative Adversarial Networks under Limited
Data", arXiv:2104.03310, eq. 3: ``R_LC = E_x[‖D(x) - α_F‖²] + E_z[‖D(G(z)) - α_R‖²]``, where
``α_R`` and ``α_F`` are exponential moving averages of D's mean output on real and generated
samples. As in the authors' code (github.com/google/lecam-gan, ``lecam_reg``), each term is
one-sided: ``E[relu(D(x) - α_F)²] + E[relu(α_R - D(G(z)))²]``, which only pulls a real logit
down when it is above the fake anchor and a fake logit up when it is below the real anchor. The
anchors are updated with the current batch before the term is computed; during the first
``start`` updates they are the batch means themselves (decay 0, the code's ``start_itr``). The
authors' PyTorch BigGAN code uses λ 0.3, decay 0.9 and start 1,000 on CIFAR; their StyleGAN2
code a decay of 0.99.

The anchors are buffers registered on each discriminator (``lecam_anchor_real``,
``lecam_anchor_fake``, ``lecam_updates``), so they are per discriminator, saved in checkpoints
and moved with the model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lab.losses.regularizers import DiscriminatorInputs, Regularizer

__all__ = ["LeCam", "lecam_penalty"]


def lecam_penalty(real_logits: Tensor, fake_logits: Tensor, anchor_real: Tensor,
                  anchor_fake: Tensor) -> Tensor:
    """``E[relu(D(x) - α_F)²] + E[relu(α_R - D(G(z)))²]`` (without λ), float32 scalar."""
    return (F.relu(real_logits.float() - anchor_fake).pow(2).mean()
            + F.relu(anchor_real - fake_logits.float()).pow(2).mean())


class LeCam(Regularizer):
    """``weight · R_LC`` (Tseng et al. 2021) with anchors averaged at ``decay``.

    Args:
        weight: λ (0.3 in the authors' BigGAN CIFAR scripts).
        decay: decay of the anchors' moving averages (0.9 in the BigGAN code).
        start: updates of each discriminator before the averaging starts (1,000).
    """

    def __init__(self, weight: float = 0.3, decay: float = 0.9, start: int = 1000) -> None:
        if weight < 0:
            raise ValueError(f"regularizer.weight must be >= 0, got {weight}")
        if not 0 <= decay < 1:
            raise ValueError(f"regularizer.decay must be in [0, 1), got {decay}")
        if start < 0:
            raise ValueError(f"regularizer.start must be >= 0, got {start}")
        self.weight = float(weight)
        self.decay = float(decay)
        self.start = int(start)

    def prepare(self, discriminator: nn.Module) -> nn.Module:
        for name in ("lecam_anchor_real", "lecam_anchor_fake", "lecam_updates"):
            discriminator.register_buffer(name, torch.zeros(()))
        return discriminator

    def penalty(self, discriminator: nn.Module, inputs: DiscriminatorInputs) -> Tensor:
        d = discriminator
        with torch.no_grad():  # no host sync: the weight is chosen on the tensors' device
            step = torch.where(d.lecam_updates >= self.start, 1.0 - self.decay, 1.0)
            d.lecam_anchor_real.lerp_(inputs.real_logits.float().mean(), step)
            d.lecam_anchor_fake.lerp_(inputs.fake_logits.float().mean(), step)
            d.lecam_updates += 1
        return self.weight * lecam_penalty(inputs.real_logits, inputs.fake_logits,
                                           d.lecam_anchor_real, d.lecam_anchor_fake)
