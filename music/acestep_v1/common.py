"""Facts, errors and small argument parsers that the pipeline, the modes, the lyric front end and
the engine all use. Imports nothing from the project, so every other module can import it
without forming a cycle.
"""

from __future__ import annotations

import math
import re
import secrets
from typing import Any

# ---- the model's fixed sizes ------------------------------------------------------------------
NATIVE_SAMPLE_RATE = 44100  # the DCAE and the vocoder work at 44.1 kHz
SAMPLES_PER_FRAME = 4096  # 512 (mel hop) x 8 (DCAE time factor): one latent frame
FRAMES_PER_SECOND = NATIVE_SAMPLE_RATE / SAMPLES_PER_FRAME  # 10.766
MAX_DURATION_S = 240.0  # upstream's cap on a song (and on a mode's source audio)
MAX_FRAMES = int(MAX_DURATION_S * NATIVE_SAMPLE_RATE / SAMPLES_PER_FRAME)  # 2583
MAX_LYRIC_TOKENS = 4096  # the model was trained on at most this many lyric tokens
SAMPLE_RATES = (44100, 48000)  # what `generate` returns: native, or resampled to 48 kHz
NULL_LYRIC_ID = 0  # upstream's "no lyrics" id ([STOP]); instrumental is ids [[0]] with mask [[0]]
STRUCTURE_TAGS = (
    "start", "intro", "verse", "chorus", "bridge", "outro", "end", "inst", "solo", "hook", "pre-chorus", "break",
)  # fmt: skip  # the 12 section tags the model learned, in vocab order

# upstream keyword arguments of the editing modes and LoRA, with upstream's defaults
MODE_DEFAULTS: dict[str, Any] = {
    "audio2audio_enable": False, "ref_audio_strength": 0.5, "ref_audio_input": None,
    "lora_name_or_path": "none", "lora_weight": 1.0, "retake_seeds": None, "retake_variance": 0.5,
    "repaint_start": 0.0, "repaint_end": 0.0, "src_audio_path": None, "edit_target_prompt": None,
    "edit_target_lyrics": None, "edit_n_min": 0.0, "edit_n_max": 1.0, "edit_n_avg": 1,
}  # fmt: skip
MODE_ARGUMENTS = tuple(MODE_DEFAULTS)

_TAG_LINE = re.compile(r"^\s*\[([^\]]*)\]")


class InvalidArguments(ValueError):
    """An argument of `generate` that cannot be served; the message says what to change."""


class NonFiniteError(RuntimeError):
    """NaN or inf appeared in the latents; the message names the step."""


def frames_for_duration(seconds: float) -> int:
    """Upstream's latent length for a duration: int(seconds * 44100 / 512 / 8)."""
    return int(seconds * NATIVE_SAMPLE_RATE / SAMPLES_PER_FRAME)


def check_duration(seconds: float) -> None:
    if not isinstance(seconds, (int, float)) or math.isnan(seconds) or not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(f"audio_duration must be in (0, {MAX_DURATION_S:g}] seconds, got {seconds!r}")
    if frames_for_duration(seconds) < 1:
        raise ValueError(f"audio_duration {seconds:g} s is shorter than one latent frame (about 0.093 s)")


def unknown_structure_tags(lyrics: str) -> list[str]:
    """Bracketed line openers that are not one of the model's 12 structure tags ([Verse 1], ...)."""
    unknown = []
    for line in lyrics.split("\n"):
        match = _TAG_LINE.match(line)
        if match and match.group(1).strip().lower() not in STRUCTURE_TAGS:
            unknown.append(f"[{match.group(1)}]")
    return sorted(set(unknown))


def parse_seeds(manual_seeds, batch_size: int) -> list[int]:
    """Upstream's rules: an int, "1,2,3", or a list; missing entries repeat the last seed; None
    draws random seeds. Anything else is an error (upstream silently drew random ones)."""
    if manual_seeds is None or manual_seeds == [] or manual_seeds == "":
        return [secrets.randbelow(2**32) for _ in range(batch_size)]
    if isinstance(manual_seeds, bool):
        raise ValueError("manual_seeds must be an int, a list of ints or a '1,2,3' string")
    if isinstance(manual_seeds, int):
        seeds = [manual_seeds]
    elif isinstance(manual_seeds, str):
        try:
            seeds = [int(part) for part in manual_seeds.split(",")]
        except ValueError:
            raise ValueError(f"manual_seeds must be integers like '1,2,3', got {manual_seeds!r}") from None
    elif isinstance(manual_seeds, (list, tuple)) and all(isinstance(s, int) and not isinstance(s, bool) for s in manual_seeds):
        seeds = list(manual_seeds)
    else:
        raise ValueError(f"manual_seeds must be an int, a list of ints or a '1,2,3' string, got {manual_seeds!r}")
    if any(not 0 <= s < 2**64 for s in seeds):
        raise ValueError(f"seeds must be in [0, 2**64), got {seeds}")
    return [seeds[i] if i < len(seeds) else seeds[-1] for i in range(batch_size)]
