"""The files of one take, each written atomically (temp file in the same folder + os.replace).

- master FLAC, 24-bit, at the engine's native sample rate (the file that gets hashed and signed)
- MP3 320 kbps CBR for download, and a small MP3 preview for the browser (lameenc)
- waveform envelope JSON (min/max per bucket, about 2,000 points) for the UI
- parameters JSON (everything needed to regenerate the take)
Tags (title, lyrics, prompt, model, seed) go in with mutagen *before* the rename, so a stored
file is never modified again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import lameenc
import numpy as np
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.id3 import COMM, ID3, TIT2, TSSE, TXXX, USLT

from studio.errors import BadInput, EnvironmentProblem, disk_problem

MP3_BITRATE = 320
PREVIEW_BITRATE = 96
ENVELOPE_POINTS = 2000


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success it replaces `path`, on failure it is removed."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise (disk_problem(exc, path) or exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 2) -> None:
    write_bytes_atomic(path, json.dumps(data, indent=indent, ensure_ascii=False, sort_keys=True).encode())


# -- encoders ----------------------------------------------------------------------------------


def check_audio_array(audio: np.ndarray) -> np.ndarray:
    """Engines return float32 (channels, samples); refuse anything that would store garbage."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2 or audio.shape[0] > 8 or audio.shape[1] == 0:
        raise ValueError(f"engine returned audio of shape {audio.shape}; expected (channels, samples)")
    if not np.isfinite(audio).all():
        raise ValueError("engine returned audio with NaN or infinite samples")
    return audio


def write_flac(path: Path, audio: np.ndarray, sample_rate: int, tags: dict[str, str]) -> None:
    # Encoded and tagged in memory: libsndfile and mutagen hide the errno of a failed write
    # ("System error"), a plain file write keeps it, so a full disk is named as such.
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio.T, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_24")
    buffer.seek(0)
    flac = FLAC(buffer)
    for key, value in tags.items():
        flac[key] = value
    buffer.seek(0)
    flac.save(buffer)
    write_bytes_atomic(path, buffer.getvalue())


def encode_mp3(audio: np.ndarray, sample_rate: int, *, bitrate: int, quality: int = 2) -> bytes:
    stereo = audio[:2] if audio.shape[0] >= 2 else audio
    pcm = (np.clip(stereo.T, -1.0, 1.0) * 32767.0).round().astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(stereo.shape[0])
    encoder.set_quality(quality)  # 2 = high quality; 7 = fast (used for the preview)
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


def write_mp3(path: Path, data: bytes, tags: dict[str, str]) -> None:
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.get("title", "")))
    if tags.get("lyrics"):
        id3.add(USLT(encoding=3, lang="xxx", desc="", text=tags["lyrics"]))
    if tags.get("prompt"):
        id3.add(COMM(encoding=3, lang="xxx", desc="prompt", text=tags["prompt"]))
    for key in ("model", "seed"):
        if tags.get(key):
            id3.add(TXXX(encoding=3, desc=key.upper(), text=tags[key]))
    id3.add(TSSE(encoding=3, text="songstudio"))
    buffer = io.BytesIO(data)  # tagged in memory (see write_flac)
    id3.save(buffer, v2_version=3)  # v2.3: what most players read
    write_bytes_atomic(path, buffer.getvalue())


def waveform_envelope(audio: np.ndarray, sample_rate: int, points: int = ENVELOPE_POINTS) -> dict[str, Any]:
    mono = audio.mean(axis=0)
    points = max(1, min(points, mono.size))
    starts = np.linspace(0, mono.size, points, endpoint=False).astype(np.int64)
    return {
        "sample_rate": sample_rate,
        "duration": mono.size / sample_rate,
        "points": points,
        "min": np.round(np.minimum.reduceat(mono, starts), 4).tolist(),
        "max": np.round(np.maximum.reduceat(mono, starts), 4).tolist(),
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- one take ----------------------------------------------------------------------------------

TAKE_FILES = {
    "master": "master.flac",
    "mp3": "take.mp3",
    "preview": "preview.mp3",
    "waveform": "waveform.json",
    "params": "params.json",
}


def write_take_folder(
    folder: Path,
    *,
    audio: np.ndarray,
    sample_rate: int,
    tags: dict[str, str],
    parameters: dict[str, Any],
    on_file: Callable[[str], None] = lambda name: None,
    seal: Callable[[Path], None] | None = None,
) -> str:
    """Write every file of one take into `folder`; returns the master's sha256 (after `seal`,
    which tags and C2PA-signs the master in place)."""
    audio = check_audio_array(audio)
    folder.mkdir(parents=True, exist_ok=True)
    on_file("master")
    write_flac(folder / TAKE_FILES["master"], audio, sample_rate, tags)
    if seal is not None:
        on_file("seal")
        _seal(seal, folder / TAKE_FILES["master"])
    on_file("mp3")
    write_mp3(folder / TAKE_FILES["mp3"], encode_mp3(audio, sample_rate, bitrate=MP3_BITRATE), tags)
    on_file("preview")
    preview = encode_mp3(audio, sample_rate, bitrate=PREVIEW_BITRATE, quality=7)
    write_mp3(folder / TAKE_FILES["preview"], preview, tags)
    on_file("waveform")
    write_json_atomic(folder / TAKE_FILES["waveform"], waveform_envelope(audio, sample_rate), indent=None)
    write_json_atomic(folder / TAKE_FILES["params"], parameters)
    return sha256_file(folder / TAKE_FILES["master"])


def _seal(seal: Callable[[Path], None], master: Path) -> None:
    """Sealing rewrites the master through a copy (tags, then the C2PA manifest); the libraries
    doing it report a full disk in their own words, so when it fails and the disk cannot hold
    another copy of the master, say that the disk is full."""
    try:
        seal(master)
    except Exception as exc:
        free = shutil.disk_usage(master.parent).free
        if free < 2 * master.stat().st_size:
            raise EnvironmentProblem(
                f"disk full while sealing {master} ({free} bytes free; {exc}); free space on that disk, "
                "then retry the job"
            ) from exc
        raise


# -- reading -----------------------------------------------------------------------------------


def check_readable_audio(path: Path, *, label: str = "audio file") -> None:
    """Fail early, and clearly, on a missing, unreadable or corrupt audio input."""

    if not path.is_file():
        raise BadInput(f"{label} {path} does not exist; give the path of a WAV, FLAC, OGG or MP3 file")
    try:
        info = sf.info(str(path))
        if info.frames <= 0:
            raise sf.LibsndfileError(0, "no audio frames")
        with sf.SoundFile(str(path)) as handle:
            handle.read(min(info.frames, 4096), dtype="float32")
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise BadInput(
            f"cannot read {label} {path}: {exc}; the file is corrupt or not audio. "
            "Give a WAV, FLAC, OGG or MP3 file"
        ) from None
