"""Exponential moving average of generator weights (Karras et al. 2018, arXiv:1710.10196;
Yazıcı et al. 2019, arXiv:1806.04498)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema_copy(model: nn.Module) -> nn.Module:
    """A frozen deep copy of ``model`` (no gradients) to hold the averaged weights."""
    ema = copy.deepcopy(model)
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def ema_update_(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """In place: ``ema_p <- decay * ema_p + (1 - decay) * p`` for every parameter.

    Buffers (BatchNorm running statistics, spectral-norm vectors) are copied as they are,
    as StudioGAN does: an average of running statistics is not a running statistic.
    ``decay=0`` copies the model.
    """
    ema_params = list(ema.parameters())
    params = list(model.parameters())
    if len(ema_params) != len(params):
        raise ValueError("EMA copy and model have different parameter lists")
    if decay == 0.0:
        torch._foreach_copy_(ema_params, [p.detach() for p in params])
    else:
        torch._foreach_lerp_(ema_params, [p.detach() for p in params], 1.0 - decay)
    for ema_b, b in zip(ema.buffers(), model.buffers(), strict=True):
        ema_b.copy_(b)
