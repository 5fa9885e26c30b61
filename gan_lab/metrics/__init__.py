"""Evaluation metrics, each reported with its protocol (see :mod:`gan_lab.metrics.evaluation`).

* Math: :mod:`~gan_lab.metrics.frechet`, :mod:`~gan_lab.metrics.kernel_distance`,
  :mod:`~gan_lab.metrics.inception_score`, :mod:`~gan_lab.metrics.manifold`,
  :mod:`~gan_lab.metrics.modes`.
* torchmetrics ``Metric``s (DDP-safe): :class:`FrechetDistance`, :class:`KernelDistance`,
  :class:`InceptionScore`, :class:`PrecisionRecallDensityCoverage`, :class:`ModeHistogram`.
* Evaluators for ``conf/metrics/``: :class:`FID`, :class:`KID`, :class:`IS`, :class:`FVD`,
  :class:`PRDC`, :class:`VideoPRDC`, :class:`ToyModes`, :class:`StackedMNISTModes`,
  :class:`PredictionQuality`.
"""

from gan_lab.metrics.evaluation import EvalContext, Score, run_evaluators, write_metrics_json
from gan_lab.metrics.feature_metrics import (
    FeatureMetric,
    FrechetDistance,
    InceptionScore,
    KernelDistance,
    PrecisionRecallDensityCoverage,
)
from gan_lab.metrics.frechet import frechet_distance, mean_and_covariance, sqrtm_psd
from gan_lab.metrics.inception_score import inception_score
from gan_lab.metrics.kernel_distance import kernel_distance
from gan_lab.metrics.manifold import density_coverage, knn_radii, precision_recall
from gan_lab.metrics.modes import ModeCoverage, ModeHistogram, kl_to_uniform, toy_mode_coverage
from gan_lab.metrics.prediction import PredictionQuality, frame_psnr_ssim
from gan_lab.metrics.scores import (
    FID,
    FVD,
    IS,
    KID,
    PRDC,
    StackedMNISTModes,
    ToyModes,
    VideoPRDC,
)

__all__ = [
    "FID",
    "FVD",
    "IS",
    "KID",
    "PRDC",
    "EvalContext",
    "FeatureMetric",
    "FrechetDistance",
    "InceptionScore",
    "KernelDistance",
    "ModeCoverage",
    "ModeHistogram",
    "PrecisionRecallDensityCoverage",
    "PredictionQuality",
    "Score",
    "StackedMNISTModes",
    "ToyModes",
    "VideoPRDC",
    "density_coverage",
    "frame_psnr_ssim",
    "frechet_distance",
    "inception_score",
    "kernel_distance",
    "kl_to_uniform",
    "knn_radii",
    "mean_and_covariance",
    "precision_recall",
    "run_evaluators",
    "sqrtm_psd",
    "toy_mode_coverage",
    "write_metrics_json",
]
