"""Packing: the discriminator judges ``m`` samples at once (PacGAN).

Lin, Khetan, Fanti & Oh 2018, "PacGAN: The power of two samples in generative adversarial
networks", arXiv:1712.04086. A *pack* is ``m`` samples of the same kind (all real or all
generated) concatenated along their first data axis, as in the authors' code: 2-D points
``(B, D)`` become ``(B/m, m*D)`` (``tensor.concatenate(x_tildes, axis=1)``), images
``(B, C, H, W)`` become ``(B/m, m*C, H, W)`` (channel concatenation of PacDCGAN) and videos
``(B, C, T, H, W)`` become ``(B/m, m*C, T, H, W)``. The discriminator is an ordinary net built
for the packed shape (:func:`packed_shape`); it returns one logit per pack. Consecutive samples of
a batch form a pack; the samples of a batch are i.i.d., so this is a random grouping.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

__all__ = ["pack", "packed_shape"]


def packed_shape(data_shape: Sequence[int], packing: int) -> tuple[int, ...]:
    """The shape of one pack of ``packing`` samples of shape ``data_shape``: the first axis
    (features or channels) multiplied by ``packing``, e.g. ``(2,) -> (2m,)``,
    ``(C, H, W) -> (mC, H, W)``."""
    _check_packing(packing)
    shape = tuple(int(s) for s in data_shape)
    return (shape[0] * packing, *shape[1:])


def pack(x: Tensor, packing: int) -> Tensor:
    """``x (B, S0, *S)`` -> packs ``(B/m, m*S0, *S)``: samples ``i*m .. i*m+m-1`` form pack ``i``.

    Raises a ValueError when ``B`` is not a multiple of ``m`` (``data.batch_size`` must be
    divisible by ``model.packing``).
    """
    _check_packing(packing)
    if packing == 1:
        return x
    b = x.shape[0]
    if b % packing:
        raise ValueError(
            f"a batch of {b} samples cannot be split into packs of {packing}: "
            f"data.batch_size must be divisible by model.packing={packing}"
        )
    return x.reshape(b // packing, packing * x.shape[1], *x.shape[2:])


def _check_packing(packing: int) -> None:
    if int(packing) != packing or packing < 1:
        raise ValueError(f"model.packing must be an integer >= 1, got {packing!r}")
