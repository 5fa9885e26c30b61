"""Session fixtures shared by the test files."""

from __future__ import annotations

import shutil

import pytest

from gan_lab.metrics.features import cache_dir
from gan_lab.metrics.features.mnist import MNISTNetRecipe, mnistnet
from gan_lab.metrics.features.moving_mnist import MovingMNISTNetRecipe

# mmnistnet trained briefly: a network of the real architecture and file format for pipeline
# tests; the default recipe (minutes) is trained only by the slow tests.
SHORT_MMNISTNET = MovingMNISTNetRecipe(steps=20, val_clips=64)


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory):
    """A temporary gan_lab cache holding the trained ``mnistnet``, built once per session.

    The trained networks (``mnistnet``, ``mmnistnet``) are copied from the user's cache when
    ``gan-lab train-features`` has put them there (the tests never write that cache);
    ``mnistnet`` is trained here otherwise, ``mmnistnet`` on first use by a (slow) test.
    """
    root = tmp_path_factory.mktemp("gan_lab_cache")
    for recipe in (MNISTNetRecipe(), MovingMNISTNetRecipe()):
        user_copy = recipe.cache_path(str(cache_dir()))
        if user_copy.is_file():
            target = recipe.cache_path(str(root))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(user_copy, target)
    mnistnet(cache_dir=str(root))
    return root


@pytest.fixture(scope="session")
def short_mmnistnet(tmp_path_factory):
    """The file of an ``mmnistnet`` trained with :data:`SHORT_MMNISTNET`, once per session."""
    root = tmp_path_factory.mktemp("short_mmnistnet")
    SHORT_MMNISTNET.cached_or_trained(str(root))
    return SHORT_MMNISTNET.cache_path(str(root))
