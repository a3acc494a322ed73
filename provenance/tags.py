"""Provenance tags inside the audio file (mutagen): generation id, engine, model, seed, signer.

FLAC gets Vorbis comments (SONGSTUDIO_*), and any ID3 tag in front of the stream is dropped so
the file starts with `fLaC`; WAV gets an ID3 chunk ("id3 ") and MP3 an ID3v2 tag, both with TXXX
frames ("songstudio:*").
Tags must be written before the C2PA manifest and the audio hash: writing them changes the
file's bytes, so tagging a file that already carries a manifest is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.flac import FLAC
from mutagen.id3 import TXXX, ID3NoHeaderError
from mutagen.mp3 import MP3
from mutagen.wave import WAVE

from provenance.errors import InvalidInput, TagError
from provenance.formats import audio_format
from provenance.validate import parse_address

FIELDS = ("generation_id", "engine", "model", "seed", "signer")


@dataclass(frozen=True)
class ProvenanceTags:
    generation_id: str
    engine: str
    model: str
    seed: int
    signer: str | None = None  # the studio signer's address (public), never a key; None: no signer key yet

    def __post_init__(self):
        for name in ("generation_id", "engine", "model"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"tag {name} must be a non-empty string")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInput(f"tag seed must be a non-negative integer, got {self.seed!r}")
        if self.signer is not None:
            object.__setattr__(self, "signer", parse_address(self.signer, what="signer address"))

    def as_text(self) -> dict[str, str]:
        """The tags to write; an absent signer is left out rather than written as a placeholder."""
        return {k: str(v) for k, v in asdict(self).items() if v is not None}


def write_tags(path: str | Path, tags: ProvenanceTags) -> None:
    """Writes the tags atomically (a tagged copy replaces the file only when complete)."""
    from provenance.c2pa_manifest import has_manifest  # noqa: PLC0415  (c2pa is heavy; only needed here)

    path = Path(path)
    fmt = audio_format(path)
    if not path.is_file():
        raise InvalidInput(f"audio file not found: {path}")
    if has_manifest(path):
        raise TagError(f"{path} already carries a C2PA manifest; re-tagging would break it and change the "
                       "audio hash. Tag a new copy of the master before sealing it")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        shutil.copyfile(path, tmp)
        _WRITERS[fmt](Path(tmp), tags.as_text())
        os.replace(tmp, path)
    except MutagenError as exc:
        raise TagError(f"cannot tag {path}: {exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def read_tags(path: str | Path) -> dict[str, str]:
    """The songstudio tags present in the file (missing ones are absent from the dict)."""
    path = Path(path)
    fmt = audio_format(path)
    if not path.is_file():
        raise InvalidInput(f"audio file not found: {path}")
    try:
        return _READERS[fmt](path)
    except MutagenError as exc:
        raise TagError(f"cannot read tags of {path}: {exc}") from None


def _vorbis_key(field: str) -> str:
    return f"SONGSTUDIO_{field.upper()}"


def _id3_desc(field: str) -> str:
    return f"songstudio:{field}"


def _write_flac(path: Path, values: dict[str, str]) -> None:
    audio = FLAC(path)
    for field, value in values.items():
        audio[_vorbis_key(field)] = [value]
    audio.save(deleteid3=True)  # FLAC tools expect fLaC first; tags belong in Vorbis comments


def _read_flac(path: Path) -> dict[str, str]:
    audio = FLAC(path)
    found = {}
    for field in FIELDS:
        values = audio.get(_vorbis_key(field)) if audio.tags is not None else None
        if values:
            found[field] = values[0]
    return found


def _write_id3(path: Path, values: dict[str, str], opener) -> None:
    audio = opener(path)
    if audio.tags is None:
        audio.add_tags()
    for field, value in values.items():
        audio.tags.add(TXXX(encoding=3, desc=_id3_desc(field), text=[value]))
    audio.save()


def _read_id3(path: Path, opener) -> dict[str, str]:
    try:
        tags = opener(path).tags
    except ID3NoHeaderError:
        tags = None
    if tags is None:
        return {}
    found = {}
    for field in FIELDS:
        frame = tags.get(f"TXXX:{_id3_desc(field)}")
        if frame is not None and frame.text:
            found[field] = str(frame.text[0])
    return found


_WRITERS = {"flac": _write_flac, "wav": lambda p, v: _write_id3(p, v, WAVE), "mp3": lambda p, v: _write_id3(p, v, MP3)}
_READERS = {"flac": _read_flac, "wav": lambda p: _read_id3(p, WAVE), "mp3": lambda p: _read_id3(p, MP3)}
