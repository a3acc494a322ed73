"""Source and reference audio for the pipeline: stereo float32 at the model's 48 kHz.

The pipeline neither resamples nor up-mixes (a mono tensor crashes inside the VAE), so every
input is brought to `[2, samples]` at 48 kHz here, before any model work.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from music.engine import RequestError


def audio_seconds(path: str, *, role: str) -> float:
    """The file's duration, read from its header only; a clear error if it is not readable audio."""

    if not Path(path).is_file():
        raise RequestError(f"{role} file not found: {path}")
    try:
        info = sf.info(path)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise RequestError(f"{role} {path} is not a readable audio file ({exc})") from None
    if info.channels not in (1, 2):
        raise RequestError(f"{role} {path} has {info.channels} channels; give a mono or stereo file")
    return info.frames / info.samplerate


def to_model_rate(audio: np.ndarray, *, rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy) of `(channels, samples)` audio; exact no-op at the same rate."""
    if rate == target_rate:
        return audio

    g = gcd(rate, target_rate)
    return resample_poly(audio, target_rate // g, rate // g, axis=-1).astype(np.float32)


def load_stereo(path: str, *, target_rate: int, role: str):
    """Read a file as a float32 torch tensor `[2, samples]` at `target_rate` (mono is duplicated)."""
    import torch

    audio_seconds(path, role=role)  # same checks and messages as validation
    data, rate = sf.read(path, dtype="float32", always_2d=True)  # (samples, channels)
    audio = np.ascontiguousarray(data.T)
    if audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)
    audio = to_model_rate(audio, rate=rate, target_rate=target_rate)
    if not np.isfinite(audio).all():
        raise RequestError(f"{role} {path} contains NaN or infinite samples")
    return torch.from_numpy(np.ascontiguousarray(audio))
