"""FID, KID, IS, FVD and precision/recall/density/coverage as torchmetrics ``Metric``s with a
pluggable feature network.

Each metric takes a :class:`~gan_lab.metrics.features.FeatureNetwork` (any ``nn.Module`` mapping
samples to ``(B, D)`` features works) and accumulates the features of generated samples, and
optionally of real ones, in list states that torchmetrics concatenates across processes, so the
metrics are correct under DDP. Features are kept in float64 (the network may run in float32),
so a metric gives exactly what its float64 function gives on the same features, even for
features far from the origin. Real features computed elsewhere (a cache, see
:mod:`gan_lab.metrics.reference`) are given with :meth:`FeatureMetric.set_reference`; they are
a plain attribute, not a synchronised state, so each process holds them once and they are never
summed across processes.

gan_lab does not use torchmetrics' own ``FrechetInceptionDistance``/``KernelInceptionDistance``
classes: their real-feature states are synchronised by summing, which would multiply a cached
reference by the number of processes, and their Fréchet distance takes the eigenvalues of the
non-symmetric ``Σ1 Σ2`` (see :mod:`gan_lab.metrics.frechet`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from gan_lab.metrics.frechet import frechet_distance, mean_and_covariance
from gan_lab.metrics.inception_score import inception_score
from gan_lab.metrics.kernel_distance import kernel_distance
from gan_lab.metrics.manifold import density_coverage, precision_recall


class FeatureMetric(Metric):
    """Base: ``update(x, real=False)`` extracts features of ``x`` with ``feature``.

    Args:
        feature: maps a batch of samples to features ``(B, D)`` (kept in eval mode).
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, feature: nn.Module) -> None:
        super().__init__()
        self.feature = feature.eval()
        self.add_state("real_features", default=[], dist_reduce_fx="cat")
        self.add_state("fake_features", default=[], dist_reduce_fx="cat")
        self._reference: Tensor | None = None

    def extract(self, x: Tensor) -> Tensor:
        """Features ``(B, D)`` of a batch (float64, detached)."""
        with torch.no_grad():
            f = self.feature(x)
        if f.ndim != 2 or len(f) != len(x):
            raise ValueError(
                f"{type(self.feature).__name__} returned features of shape {tuple(f.shape)} "
                f"for a batch of {len(x)}; expected ({len(x)}, D)"
            )
        return f.double()

    def update(self, x: Tensor, real: bool = False) -> None:
        (self.real_features if real else self.fake_features).append(self.extract(x))

    def set_reference(self, features: Tensor) -> None:
        """Use ``features (N, D)`` as the real features (float64; not reset, not
        synchronised)."""
        self._reference = features.double()

    def real(self) -> Tensor:
        """All real features ``(N, D)``: the reference if set, else the accumulated ones."""
        accumulated = dim_zero_cat(self.real_features) if self.real_features else None
        if self._reference is not None and accumulated is not None:
            raise RuntimeError("real features were both set as reference and accumulated")
        if self._reference is not None:
            return self._reference.to(self.device)
        if accumulated is None:
            raise RuntimeError(f"{type(self).__name__}: no real features (update(x, real=True))")
        return accumulated

    def fake(self) -> Tensor:
        if not self.fake_features:
            raise RuntimeError(f"{type(self).__name__}: no generated samples were given")
        return dim_zero_cat(self.fake_features)


class FrechetDistance(FeatureMetric):
    """Fréchet distance between Gaussians fitted to real and generated features: FID with
    Inception features (Heusel et al. 2017), FVD with I3D features (Unterthiner et al. 2018)."""

    higher_is_better = False

    def compute(self) -> Tensor:
        mu_r, sigma_r = mean_and_covariance(self.real())
        mu_f, sigma_f = mean_and_covariance(self.fake())
        return torch.tensor(frechet_distance(mu_r, sigma_r, mu_f, sigma_f), dtype=torch.float64)


class KernelDistance(FeatureMetric):
    """KID (Bińkowski et al. 2018): unbiased polynomial-kernel MMD² over random subsets.

    ``compute()`` returns ``(mean, std)`` over subsets (see
    :func:`~gan_lab.metrics.kernel_distance.kernel_distance`); ``subset_size`` is reduced to
    the number of available samples when fewer.
    """

    higher_is_better = False

    def __init__(
        self, feature: nn.Module, subsets: int = 100, subset_size: int = 1000, seed: int = 0
    ) -> None:
        super().__init__(feature)
        self.subsets = subsets
        self.subset_size = subset_size
        self.seed = seed

    def compute(self) -> tuple[Tensor, Tensor]:
        real, fake = self.real().cpu(), self.fake().cpu()
        size = min(self.subset_size, len(real), len(fake))
        mean, std = kernel_distance(real, fake, self.subsets, size, seed=self.seed)
        return torch.tensor(mean, dtype=torch.float64), torch.tensor(std, dtype=torch.float64)


class InceptionScore(FeatureMetric):
    """Inception Score (Salimans et al. 2016) of generated samples; ``feature`` must return
    class probabilities ``(B, K)`` (e.g. :meth:`FeatureNetwork.as_classifier`).

    ``compute()`` returns ``(mean, std)`` over ``splits``.
    """

    higher_is_better = True

    def __init__(self, feature: nn.Module, splits: int = 10) -> None:
        super().__init__(feature)
        self.splits = splits

    def compute(self) -> tuple[Tensor, Tensor]:
        mean, std = inception_score(self.fake(), self.splits)
        return torch.tensor(mean, dtype=torch.float64), torch.tensor(std, dtype=torch.float64)


class PrecisionRecallDensityCoverage(FeatureMetric):
    """Improved precision and recall (Kynkäänniemi et al. 2019) with ``k_pr`` nearest
    neighbours, density and coverage (Naeem et al. 2020) with ``k_dc``, of generated against
    real features (see :mod:`gan_lab.metrics.manifold`).

    ``compute()`` returns ``(precision, recall, density, coverage)``.
    """

    higher_is_better = True

    def __init__(self, feature: nn.Module, k_pr: int = 3, k_dc: int = 5) -> None:
        super().__init__(feature)
        self.k_pr = k_pr
        self.k_dc = k_dc

    def compute(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        real, fake = self.real(), self.fake()
        precision, recall = precision_recall(real, fake, self.k_pr)
        density, coverage = density_coverage(real, fake, self.k_dc)
        return tuple(torch.tensor(v, dtype=torch.float64)
                     for v in (precision, recall, density, coverage))
