"""Which audio formats provenance handles, from the file name (no project imports: the tags and
the C2PA modules both use it)."""

from __future__ import annotations

from pathlib import Path

from provenance.errors import InvalidInput

MIME_TYPES = {"flac": "audio/flac", "wav": "audio/wav", "mp3": "audio/mpeg"}


def audio_format(path: str | Path) -> str:
    """'flac', 'wav' or 'mp3' from the file name."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"flac": "flac", "wav": "wav", "wave": "wav", "mp3": "mp3"}.get(suffix)
    if fmt is None:
        raise InvalidInput(f"unsupported audio file {path}: provenance supports .flac, .wav and .mp3")
    return fmt
