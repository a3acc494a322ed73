"""Uploaded audio, checked by its own bytes before it is kept, so a bad file is named as the person
knows it (their file name), never by the path it is stored under or an engine's parameter name."""

from __future__ import annotations

import io

import soundfile as sf

from studio.errors import BadInput

AUDIO_KINDS = "a WAV, FLAC, OGG or MP3 file"


def check_uploaded_audio(name: str, data: bytes) -> None:
    """BadInput naming `name` when `data` is not audio soundfile can read."""
    if not data:
        raise BadInput(f"“{name}” is empty; choose {AUDIO_KINDS}")
    try:
        with sf.SoundFile(io.BytesIO(data)) as audio:
            if audio.frames == 0:
                raise BadInput(f"“{name}” holds no audio; choose {AUDIO_KINDS}")
            audio.read(min(audio.frames, 4096), dtype="float32")
    except BadInput:
        raise
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError, TypeError):
        raise BadInput(f"“{name}” is not audio this studio can read (it may be another kind of file with an audio "
                       f"name); choose {AUDIO_KINDS}") from None
