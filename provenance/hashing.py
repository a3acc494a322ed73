"""The audio hash: sha256 of the exact bytes of the immutable master file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from provenance.errors import InvalidInput

_CHUNK = 1 << 20


def audio_hash(path: str | Path) -> str:
    """`0x` + sha256 hex of the file's bytes. Compute it after tags and the C2PA manifest are
    written: any later byte change (re-tagging included) gives a different hash."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"audio file not found: {path}")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return "0x" + digest.hexdigest()
