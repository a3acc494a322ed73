"""Plain-data choices offered by the pages: style presets, structure tags, engine option menus.

Presets only fill the prompt text; the prompt stays free text the user can edit. The style
presets (GENRES, MOODS, INSTRUMENTS, STRUCTURES) and the examples come from the data folder
(`data/presets.toml`, `data/examples.toml`), read when a page first asks for them; what the
models themselves define (section tags, languages, sampler names, keys) stays here.
"""

from __future__ import annotations

from typing import Any

from studio.data_files import load_presets

_FROM_DATA = {"GENRES": "genres", "MOODS": "moods", "INSTRUMENTS": "instruments", "STRUCTURES": "structures",
              "EXAMPLES": "examples"}


def __getattr__(name: str) -> Any:
    """GENRES, MOODS, INSTRUMENTS, STRUCTURES, EXAMPLES: read from the data folder on first use."""
    if name in _FROM_DATA:
        return getattr(load_presets(), _FROM_DATA[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
LANGUAGE_CODES = {"English": "en", "Spanish": "es", "French": "fr", "German": "de", "Italian": "it",
                  "Portuguese": "pt", "Japanese": "ja", "Korean": "ko", "Chinese": "zh"}
LANGUAGES = tuple(LANGUAGE_CODES)

# The exact tag set ACE-Step understands (see DESIGN.md, lyrics stage).
SECTION_TAGS = (
    "intro", "verse", "pre-chorus", "chorus", "bridge", "outro", "inst", "solo", "hook", "break", "start", "end",
)

# ACE-Step v1 sampler options, by the upstream argument names (docs: shared/reference/acestep-v1.md).
V1_SCHEDULERS = ("euler", "heun", "pingpong")
V1_CFG_TYPES = ("apg", "cfg", "cfg_star")
# ACE-Step 1.5 metadata, by the diffusers pipeline's argument names.
KEYS = tuple(f"{note} {mode}" for note in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
             for mode in ("major", "minor"))
TIME_SIGNATURES = ("4", "3", "2", "6")


def compose_prompt(text: str, *, genres: list[str] = (), moods: list[str] = (), instruments: list[str] = ()) -> str:
    """Join free text and chosen presets into one comma-separated tag prompt, without duplicates."""
    parts: list[str] = []
    for piece in [*text.split(","), *genres, *moods, *instruments]:
        piece = piece.strip()
        if piece and piece.lower() not in (p.lower() for p in parts):
            parts.append(piece)
    return ", ".join(parts)
