"""Shared fixtures of the ACE-Step v1 tests: the upstream reference cases and a pipeline loaded
from the tiny random-weight checkpoint (official folder layout) beside the checkout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from music.acestep_v1 import ACEStepV1Pipeline


@pytest.fixture(scope="session")
def v1_cases(v1_reference: Path) -> dict[str, dict]:
    data = json.loads((v1_reference / "cases.json").read_text(encoding="utf-8"))
    return {case["name"]: case for case in data["cases"]}


@pytest.fixture(scope="session")
def v1_tensors(v1_reference: Path):
    cache: dict[str, dict[str, torch.Tensor]] = {}

    def load(name: str) -> dict[str, torch.Tensor]:
        if name not in cache:
            cache[name] = load_file(v1_reference / f"case_{name}.safetensors")
        return cache[name]

    return load


@pytest.fixture(scope="session")
def v1_pipeline(v1_reference: Path):
    return ACEStepV1Pipeline.from_pretrained(
        v1_reference / "checkpoint", device="cpu", dtype=torch.float32, lyric_vocab=v1_reference / "lyrics_vocab.json"
    )

