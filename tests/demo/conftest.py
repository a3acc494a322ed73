"""The demo models, installed once per session into a temporary model cache."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def demo(demo_cache) -> dict:
    from studio.demo_models import install_demo_models

    return install_demo_models(demo_cache)
