"""Suite-wide fixtures. Tiny models run on one torch thread: deterministic, and faster on a
busy 2-core machine than two threads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reference_folder import locate_reference, on_ci

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    try:
        import torch
    except ImportError:  # the studio's UI tests do not need torch
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def v1_reference() -> Path:
    """`../shared/acestep-v1-reference` beside the checkout. Missing: skip locally, fail on CI."""
    candidates = [Path(os.environ["SONGSTUDIO_V1_REFERENCE"])] if "SONGSTUDIO_V1_REFERENCE" in os.environ else []
    candidates += [REPO.parent / "shared" / "acestep-v1-reference", REPO / "shared" / "acestep-v1-reference"]
    return locate_reference(candidates, ci=on_ci())
