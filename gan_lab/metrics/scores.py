"""Evaluators: the ``_target_`` of every ``conf/metrics/*.yaml`` entry.

Each is called with an :class:`~gan_lab.metrics.evaluation.EvalContext` and returns
:class:`~gan_lab.metrics.evaluation.Score`s named with their protocol, after StyleGAN(-V):
standard networks give ``fid50k``, ``kid50k``, ``is50k``, ``precision50k`` (the number of
generated samples), domain networks give ``fid_mnistnet``, ``kid_mnistnet``, ``is_mnistnet``,
``precision_mnistnet`` (never a bare ``fid``), scores on clips add the clip length
(``fvd2048_16f``), and the counts are on the protocol card.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gan_lab.metrics.evaluation import EvalContext, Score, compact_count
from gan_lab.metrics.feature_metrics import (
    FeatureMetric,
    FrechetDistance,
    InceptionScore,
    KernelDistance,
    PrecisionRecallDensityCoverage,
)
from gan_lab.metrics.features.base import FeatureNetwork
from gan_lab.metrics.modes import (
    STACKED_MODES,
    ModeHistogram,
    kl_to_uniform,
    stacked_mnist_mode,
    toy_mode_coverage,
)
from gan_lab.metrics.reference import data_key, load_reference, save_reference

FeatureFactory = Callable[..., FeatureNetwork]


class _NetworkUser:
    """Builds its feature network on first use (``factory(cache_dir=...)``), once."""

    def __init__(self, feature: FeatureFactory) -> None:
        self._factory = feature
        self._net: FeatureNetwork | None = None

    def network(self, ctx: EvalContext) -> FeatureNetwork:
        if self._net is None:
            self._net = self._factory(cache_dir=ctx.cache_dir)
        return self._net.to(ctx.device)


class FeatureScore(_NetworkUser):
    """Base of FID, KID, IS and PRDC: generated (and real) samples through a feature network.

    Args:
        feature: a factory of the feature network (a Hydra ``_partial_`` of e.g.
            :func:`~gan_lab.metrics.features.inception_v3` or
            :func:`~gan_lab.metrics.features.mnistnet`).
        n_fake: generated samples.
        n_real: real samples (``null``: the whole data set; required for streams).
    """

    kind = ""
    needs_real = True
    higher_is_better = False

    def __init__(self, feature: FeatureFactory, n_fake: int = 10000,
                 n_real: int | None = None) -> None:
        super().__init__(feature)
        if n_fake < 2 or (n_real is not None and n_real < 2):
            raise ValueError(f"{self.kind}: n_fake and n_real must be >= 2")
        self.n_fake = n_fake
        self.n_real = n_real

    # --- what subclasses define
    def make_metric(self, net: FeatureNetwork) -> FeatureMetric:
        raise NotImplementedError

    def scores(self, value, name: str, card: dict) -> list[Score]:
        return [Score(name, float(value), card, self.higher_is_better)]

    def card_extra(self) -> dict:
        return {}

    # --- shared
    def name(self, net: FeatureNetwork) -> str:
        if net.standard:
            return f"{self.kind}{compact_count(self.n_fake)}"
        return f"{self.kind}_{net.name}"

    def reference_key(self, ctx: EvalContext, net: FeatureNetwork, n_real: int) -> dict:
        return {
            "data": data_key(ctx.data_config, streamed=ctx.streamed),
            **net.card(),
            "n_real": n_real,
            "seed": ctx.seed,
            **self.card_extra(),
        }

    def real_batches(self, ctx: EvalContext):
        """``(batches, n_used)`` of real samples in model space."""
        return ctx.real(self.n_real)

    def fake_batches(self, ctx: EvalContext):
        return ctx.generated(self.n_fake)

    def __call__(self, ctx: EvalContext) -> list[Score]:
        net = self.network(ctx)
        metric = self.make_metric(net).to(ctx.device)
        n_real, key, cached = None, None, None
        if self.needs_real:
            batches, n_real = self.real_batches(ctx)
            key = self.reference_key(ctx, net, n_real)
            cached = load_reference(key, ctx.cache_dir)
            if cached is not None:
                metric.set_reference(cached)
            else:
                for x in batches:
                    metric.update(x.to(ctx.device), real=True)
        for x in self.fake_batches(ctx):
            metric.update(x)
        value = metric.compute()
        if self.needs_real and cached is None:
            with metric.sync_context():
                real = metric.real()
            if ctx.world[0] == 0:
                save_reference(key, real, ctx.cache_dir)
        name = self.name(net)
        card = ctx.card(name, **net.card(), n_real=n_real, n_fake=self.n_fake,
                        **self.card_extra())
        return self.scores(value, name, card)


class FID(FeatureScore):
    """Fréchet distance of features (Heusel et al. 2017, arXiv:1706.08500): ``fid10k`` with
    InceptionV3, ``fid_mnistnet`` with the MNIST network."""

    kind = "fid"

    def make_metric(self, net: FeatureNetwork) -> FeatureMetric:
        return FrechetDistance(net)


class KID(FeatureScore):
    """Kernel Inception Distance (Bińkowski et al. 2018, arXiv:1801.01401): the mean over
    subsets as ``kid...`` and its standard deviation as ``kid..._std``."""

    kind = "kid"

    def __init__(self, feature: FeatureFactory, n_fake: int = 10000, n_real: int | None = None,
                 subsets: int = 100, subset_size: int = 1000) -> None:
        super().__init__(feature, n_fake, n_real)
        self.subsets = subsets
        self.subset_size = subset_size

    def make_metric(self, net: FeatureNetwork) -> FeatureMetric:
        return KernelDistance(net, self.subsets, self.subset_size)

    def card_extra(self) -> dict:
        return {"subsets": self.subsets, "subset_size": self.subset_size}

    def scores(self, value, name: str, card: dict) -> list[Score]:
        mean, std = value
        # the subsets cannot be larger than the sample sets (see KernelDistance)
        card = {**card, "subset_size": min(self.subset_size, card["n_real"], card["n_fake"])}
        return [Score(name, float(mean), card, self.higher_is_better),
                Score(f"{name}_std", float(std), {**card, "metric": f"{name}_std"})]


class IS(FeatureScore):
    """Inception Score (Salimans et al. 2016, arXiv:1606.03498) over ``splits``: the mean as
    ``is...`` and the standard deviation as ``is..._std``; needs a network with a classifier
    (NVIDIA's InceptionV3 file, or ``mnistnet``)."""

    kind = "is"
    needs_real = False
    higher_is_better = True

    def __init__(self, feature: FeatureFactory, n_fake: int = 10000, splits: int = 10) -> None:
        super().__init__(feature, n_fake, None)
        self.splits = splits

    def make_metric(self, net: FeatureNetwork) -> FeatureMetric:
        return InceptionScore(net.as_classifier(), self.splits)

    def card_extra(self) -> dict:
        return {"splits": self.splits}

    def scores(self, value, name: str, card: dict) -> list[Score]:
        mean, std = value
        return [Score(name, float(mean), card, self.higher_is_better),
                Score(f"{name}_std", float(std), {**card, "metric": f"{name}_std"})]


class ClipScore(FeatureScore):
    """Base of feature scores on clips, cut to ``frames`` frames as StyleGAN-V does for FVD:
    real clips longer than ``frames`` at a random offset (drawn per clip, from a generator
    seeded with ``seed + 1 + rank``), generated clips, which must have at least ``frames``
    frames, at the start. Names end in ``_<frames>f``.

    Subclasses put it first among their bases (``class FVD(ClipScore, FID)``) and pass
    ``frames`` by keyword.
    """

    def __init__(self, *args, frames: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if frames < 1:
            raise ValueError(f"{self.kind}: frames must be >= 1, got {frames}")
        self.frames = frames

    def name(self, net: FeatureNetwork) -> str:
        return f"{super().name(net)}_{self.frames}f"

    def card_extra(self) -> dict:
        return {**super().card_extra(), "frames": self.frames,
                "offset": "random (real), 0 (generated)"}

    def _check(self, x, what: str):
        if x.ndim != 5 or x.shape[2] < self.frames:
            raise ValueError(
                f"{self.name(self._net)}: {what} samples must be clips (B, C, T, H, W) with "
                f"T >= {self.frames}, got {tuple(x.shape)}"
            )

    def real_batches(self, ctx: EvalContext):
        batches, n = super().real_batches(ctx)
        gen = torch.Generator().manual_seed(ctx.seed + 1 + ctx.world[0])

        def cut():
            for x in batches:
                self._check(x, "real")
                starts = torch.randint(x.shape[2] - self.frames + 1, (len(x),), generator=gen)
                yield torch.stack([c[:, s : s + self.frames] for c, s in zip(x, starts.tolist(),
                                                                             strict=True)])

        return cut(), n

    def fake_batches(self, ctx: EvalContext):
        for x in super().fake_batches(ctx):
            self._check(x, "generated")
            yield x[:, :, : self.frames]


class FVD(ClipScore, FID):
    """Fréchet Video Distance (Unterthiner et al. 2018, arXiv:1812.01717) on ``frames``-frame
    clips (see :class:`ClipScore`), named with its protocol as StyleGAN-V does: ``fvd2048_16f``
    with I3D (2,048 real and 2,048 generated 16-frame clips); a domain network ``net`` gives
    ``fvd_<net>_16f``.
    """

    kind = "fvd"

    def __init__(self, feature: FeatureFactory, n_fake: int = 2048, n_real: int | None = 2048,
                 frames: int = 16) -> None:
        super().__init__(feature, n_fake, n_real, frames=frames)


class PRDC(FeatureScore):
    """Improved precision and recall (Kynkäänniemi et al. 2019, arXiv:1904.06991) with ``k_pr``
    nearest neighbours (3 in the paper) and density and coverage (Naeem et al. 2020,
    arXiv:2002.09797) with ``k_dc`` (5 in the paper), of generated against real features (see
    :mod:`gan_lab.metrics.manifold`): ``precision10k``, ``recall10k``, ``density10k``,
    ``coverage10k`` with InceptionV3, ``precision_mnistnet``, ... with a domain network. Each
    card holds its ``k``. The real features are FID's with the same network, ``n_real`` and
    seed (one cache entry).
    """

    kind = "prdc"
    METRICS = ("precision", "recall", "density", "coverage")

    def __init__(self, feature: FeatureFactory, n_fake: int = 10000, n_real: int | None = None,
                 k_pr: int = 3, k_dc: int = 5) -> None:
        super().__init__(feature, n_fake, n_real)
        if min(k_pr, k_dc) < 1:
            raise ValueError(f"{self.kind}: k_pr and k_dc must be >= 1, got {k_pr}, {k_dc}")
        self.k_pr = k_pr
        self.k_dc = k_dc

    def make_metric(self, net: FeatureNetwork) -> FeatureMetric:
        return PrecisionRecallDensityCoverage(net, self.k_pr, self.k_dc)

    def scores(self, value, name: str, card: dict) -> list[Score]:
        protocol = name.removeprefix(self.kind)  # "10k", "_mnistnet", "_mmnistnet_16f"
        ks = (self.k_pr, self.k_pr, self.k_dc, self.k_dc)
        named = [f"{metric}{protocol}" for metric in self.METRICS]
        return [Score(n, float(v), {**card, "metric": n, "k": k}, True)
                for n, v, k in zip(named, value, ks, strict=True)]


class VideoPRDC(ClipScore, PRDC):
    """:class:`PRDC` on ``frames``-frame clips cut as for FVD (see :class:`ClipScore`):
    ``precision2048_16f``, ... with I3D, ``precision_mmnistnet_16f``, ... with a domain
    network; the real clips are FVD's (one cache entry)."""

    def __init__(self, feature: FeatureFactory, n_fake: int = 2048, n_real: int | None = 2048,
                 frames: int = 16, k_pr: int = 3, k_dc: int = 5) -> None:
        super().__init__(feature, n_fake, n_real, k_pr, k_dc, frames=frames)


class ToyModes:
    """Toy 2-D mode coverage (VEEGAN / PacGAN Table 1): ``modes``, ``high_quality`` and
    ``reverse_kl`` over ``n_fake`` samples (2,500 in the protocol) within ``threshold``
    standard deviations. Needs a Gaussian-mixture data set (``ring8``, ``grid25``).

    Every process draws all ``n_fake`` samples with the same seed (2-D points are cheap), so
    the values are the same everywhere.
    """

    def __init__(self, n_fake: int = 2500, threshold: float = 3.0) -> None:
        self.n_fake = n_fake
        self.threshold = threshold

    def __call__(self, ctx: EvalContext) -> list[Score]:
        dm = ctx.datamodule
        if not hasattr(dm, "centers") or not hasattr(dm, "std"):
            raise ValueError(
                f"metrics toy_modes needs a Gaussian-mixture data set (ring8, grid25), not "
                f"{type(dm).__name__}"
            )
        x = ctx.module.sample(self.n_fake, ema=ctx.ema, seed=ctx.seed, batch_size=ctx.batch_size)
        result = toy_mode_coverage(ctx.module.spec.to_data_space(x.cpu()), dm.centers, dm.std,
                                   self.threshold)
        fields = {"n_fake": self.n_fake, "num_modes": result.num_modes,
                  "threshold": f"{self.threshold} std"}
        return [
            Score(name, float(getattr(result, name)), ctx.card(name, **fields), higher)
            for name, higher in (("modes", True), ("high_quality", True), ("reverse_kl", False))
        ]


class StackedMNISTModes(_NetworkUser):
    """Stacked MNIST mode coverage (Che et al. 2017; VEEGAN; PacGAN Tables 2–3): the MNIST
    classifier labels each channel of ``n_fake`` samples (26,000 in the protocol); reports
    ``modes`` (of 1,000) and ``kl`` (KL of the mode histogram to uniform).

    Args:
        classifier: factory of the digit classifier (``mnistnet``).
    """

    def __init__(self, classifier: FeatureFactory, n_fake: int = 26000) -> None:
        super().__init__(classifier)
        self.n_fake = n_fake

    def __call__(self, ctx: EvalContext) -> list[Score]:
        shape = ctx.module.spec.shape
        if len(shape) != 3 or shape[0] != 3:
            raise ValueError(
                f"metrics stacked_mnist needs 3-channel images (stacked_mnist data), got "
                f"samples of shape {shape}"
            )
        net = self.network(ctx)
        histogram = ModeHistogram(STACKED_MODES).to(ctx.device)
        for x in ctx.generated(self.n_fake):
            digits = [net.predict(x[:, c : c + 1]) for c in range(3)]
            histogram.update(stacked_mnist_mode(torch.stack(digits, dim=1)))
        counts = histogram.compute().cpu()
        fields = {**net.card(), "n_fake": self.n_fake, "num_modes": STACKED_MODES,
                  "classifier": net.name}
        return [
            Score("modes", float((counts > 0).sum()), ctx.card("modes", **fields), True),
            Score("kl", kl_to_uniform(counts), ctx.card("kl", **fields), False),
        ]

