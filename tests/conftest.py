"""Session fixtures shared by the test files."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory):
    """An empty gan_lab cache for the session: real-data statistics land here. Feature networks
    are never trained or cached by the metrics (their weights ship with gan_lab)."""
    return tmp_path_factory.mktemp("gan_lab_cache")
