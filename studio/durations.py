"""Durations as people see them, one format everywhere (pages, CLI): the length the file holds,
as m:ss.ss, floored like a browser's player (which shows 0:04 for 4.92 s).

A requested length is not always the length made: ACE-Step v1 renders whole latent frames of
4096 samples at 44.1 kHz (about 93 ms; upstream computes `int(seconds * 44100 / 512 / 8)`
frames), so a 5 s request holds 53 frames = 4.92 s. ACE-Step 1.5 trims its output to the
requested samples. The library stores and shows the file's own length.
"""

from __future__ import annotations

import math

V1_FRAME_SAMPLES, V1_RATE = 512 * 8, 44100

ROUNDING_HELP = ("ACE-Step v1 makes whole latent frames of about 93 ms (4096 samples at 44.1 kHz), so a "
                 "request is rounded down to a whole frame: 5 s gives 4.92 s. ACE-Step 1.5 keeps the length "
                 "asked for. The library, the player and the CLI show the length the file holds.")


def clock(seconds: float) -> str:
    """4.923 -> '0:04.92', 65.5 -> '1:05.50' (hundredths floored, as a player floors seconds)."""
    hundredths = math.floor(max(0.0, seconds) * 100 + 1e-6)
    minutes, rest = divmod(hundredths, 6000)
    return f"{minutes}:{rest // 100:02d}.{rest % 100:02d}"


def rendered_seconds(engine: str, requested: float) -> float | None:
    """The length an engine will make for a requested one; None when the engine does not say."""
    if engine.startswith("ace-step-v1"):
        frames = int(requested * V1_RATE / V1_FRAME_SAMPLES)
        return frames * V1_FRAME_SAMPLES / V1_RATE
    if engine.startswith("ace-step-1.5"):
        return float(requested)
    return None
