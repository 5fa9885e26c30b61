"""Evaluation metrics, each reported with its protocol."""

from gan_lab.metrics.modes import ModeCoverage, toy_mode_coverage

__all__ = ["ModeCoverage", "toy_mode_coverage"]
