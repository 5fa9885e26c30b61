"""Session fixtures shared by the test files."""

from __future__ import annotations

import shutil

import pytest

from gan_lab.metrics.features import cache_dir
from gan_lab.metrics.features.mnist import MNISTNetRecipe, mnistnet


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory):
    """A temporary gan_lab cache holding the trained ``mnistnet``, built once per session.

    The network is copied from the user's cache when ``gan-lab train-features mnistnet`` has
    put it there (the tests never write that cache); otherwise it is trained here.
    """
    root = tmp_path_factory.mktemp("gan_lab_cache")
    recipe = MNISTNetRecipe()
    user_copy = recipe.cache_path(str(cache_dir()))
    if user_copy.is_file():
        target = recipe.cache_path(str(root))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(user_copy, target)
    mnistnet(cache_dir=str(root))
    return root
