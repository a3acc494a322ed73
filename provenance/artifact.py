"""The compiled SongNFT artifact committed under contracts/build (no Node needed at run time)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from provenance.errors import ProvenanceError

ARTIFACT_ENV = "SONGSTUDIO_CONTRACT_ARTIFACT"
BUILD_DIR = Path(__file__).resolve().parents[1] / "contracts" / "build"


def artifact_path(name: str = "SongNFT") -> Path:
    if name == "SongNFT" and os.environ.get(ARTIFACT_ENV):
        return Path(os.environ[ARTIFACT_ENV])
    return BUILD_DIR / f"{name}.json"


@lru_cache(maxsize=8)
def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ProvenanceError(f"contract artifact not found: {path} (run `npm ci && npm run compile` "
                              f"at the repo root, or set {ARTIFACT_ENV})") from None
    for field in ("abi", "bytecode"):
        if field not in data:
            raise ProvenanceError(f"contract artifact {path} has no '{field}'")
    return data


def load_artifact(name: str = "SongNFT") -> dict:
    """{'abi', 'bytecode', 'deployedBytecode', 'compiler', ...} for a compiled contract."""
    return _load(artifact_path(name))
