"""Files people take away from the studio: a readable file stem, a WAV made from the master on
request, a zip of several takes, and uploaded reference audio kept under the data home."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import soundfile as sf


def download_stem(title: str, take_id: int) -> str:
    """A file name people recognise: the title (or 'take') plus the id."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:40]
    return f"{slug or 'take'}-{take_id}"


def wav_bytes(master: Path) -> bytes:
    """24-bit WAV made from the master (WAV is not stored: it is the FLAC, uncompressed)."""
    audio, rate = sf.read(master, dtype="float32", always_2d=True)
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype="PCM_24")
    return buffer.getvalue()


def zip_files(entries: list[tuple[Path, str]]) -> bytes:
    """The existing files among (path, name inside the zip), stored in one zip made in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, name in entries:
            if path.is_file():
                archive.write(path, name)
    return buffer.getvalue()


def store_upload(folder: Path, name: str, data: bytes) -> Path:
    """Keep an uploaded file under `folder` (named by its content, written atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix.lower() or ".bin"
    target = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    return target
