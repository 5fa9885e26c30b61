"""The order in which training batches are drawn: an endless, resumable stream.

Batch ``b`` of a run is a function of ``(seed, b)`` (and the process's rank) alone, so a run
resumed after ``b`` batches (:meth:`~gan_lab.data.base.GANDataModule.resume_at`) draws exactly the
batches an uninterrupted run would have drawn next, without replaying the ones before. There are
no epochs for Lightning to count: the loader never ends, training stops at ``iterations``.

* A finite data set of ``n`` samples is shuffled afresh in every pass ``e`` over it, with
  ``randperm(n)`` seeded from ``(seed, e)``; under DDP, rank ``r`` of ``W`` takes every ``W``-th
  sample of that permutation (``n // W`` each, as ``DistributedSampler`` does); each pass gives
  ``(n // W) // B`` full batches (incomplete ones are dropped).
* A generated stream (``size=None``: Moving MNIST, bouncing shapes, where any index is a new
  clip) is read in order: batch ``b`` of rank ``r`` holds samples ``(b W + r) B ... + B - 1``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler


def pass_seed(seed: int, epoch: int) -> int:
    """The seed of the permutation of pass ``epoch`` over a data set."""
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1, np.uint64)[0])


class BatchOrder(Sampler[list]):
    """Endless batches of sample keys, from batch ``start`` on (see the module docstring).

    Args:
        size: samples in the data set, or ``None`` for a generated stream.
        batch_size: samples per batch ``B`` (per process).
        seed: seeds the permutations.
        start: batches already drawn (a resumed run).
        rank, world_size: this process among ``W`` data-parallel processes.
        positions: keys are ``(index, position)`` pairs, ``position`` the sample's place in the
            stream, for data sets that draw something per use (a video's clip offset).
    """

    def __init__(self, size: int | None, batch_size: int, seed: int = 0, start: int = 0,
                 rank: int = 0, world_size: int = 1, positions: bool = False) -> None:
        if batch_size < 1 or start < 0 or not 0 <= rank < world_size:
            raise ValueError(f"BatchOrder: batch_size={batch_size}, start={start}, "
                             f"rank={rank}, world_size={world_size}")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.start, self.rank, self.world_size, self.positions = start, rank, world_size, positions
        if size is not None:
            self.per_rank = size // world_size
            self.per_pass = self.per_rank // batch_size
            if self.per_pass < 1:
                raise ValueError(f"{size} samples over {world_size} process(es) make no batch "
                                 f"of {batch_size}")

    def _share(self, epoch: int) -> torch.Tensor:
        """This process's share of pass ``epoch``'s permutation (``per_rank`` indices)."""
        perm = torch.randperm(self.size, generator=torch.Generator().manual_seed(
            pass_seed(self.seed, epoch)))
        return perm[self.rank :: self.world_size][: self.per_rank]

    def indices(self, b: int, share: torch.Tensor | None = None) -> list[int]:
        """The sample indices of batch ``b`` of this process (``share``: its pass's
        :meth:`_share`, when already computed)."""
        if self.size is None:
            first = (b * self.world_size + self.rank) * self.batch_size
            return list(range(first, first + self.batch_size))
        epoch, k = divmod(b, self.per_pass)
        share = self._share(epoch) if share is None else share
        return share[k * self.batch_size : (k + 1) * self.batch_size].tolist()

    def __iter__(self) -> Iterator[list]:
        b, epoch, share = self.start, None, None
        while True:
            if self.size is not None and b // self.per_pass != epoch:
                epoch = b // self.per_pass
                share = self._share(epoch)  # one permutation per pass
            batch = self.indices(b, share)
            if self.positions:
                first = (b * self.world_size + self.rank) * self.batch_size
                batch = [(i, first + j) for j, i in enumerate(batch)]
            yield batch
            b += 1
