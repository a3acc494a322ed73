"""Plain-data choices offered by the pages: style presets, structure tags, engine option menus.

Presets only fill the prompt text; the prompt stays free text the user can edit.
"""

from __future__ import annotations

GENRES = (
    "pop", "rock", "hip hop", "country", "edm", "reggae", "classical", "jazz", "metal", "r&b",
    "folk", "funk", "soul", "lo-fi", "ambient", "synthwave",
)
MOODS = ("happy", "sad", "energetic", "calm", "dark", "romantic", "epic", "dreamy", "melancholic", "uplifting")
INSTRUMENTS = (
    "piano", "acoustic guitar", "electric guitar", "bass", "drums", "synth", "strings", "brass",
    "saxophone", "violin", "808", "choir",
)
LANGUAGE_CODES = {"English": "en", "Spanish": "es", "French": "fr", "German": "de", "Italian": "it",
                  "Portuguese": "pt", "Japanese": "ja", "Korean": "ko", "Chinese": "zh"}
LANGUAGES = tuple(LANGUAGE_CODES)

# The exact tag set ACE-Step understands (see DESIGN.md, lyrics stage).
SECTION_TAGS = (
    "intro", "verse", "pre-chorus", "chorus", "bridge", "outro", "inst", "solo", "hook", "break", "start", "end",
)
STRUCTURES = {
    "verse, chorus, verse, chorus, bridge, chorus": ("verse", "chorus", "verse", "chorus", "bridge", "chorus"),
    "intro, verse, chorus, outro": ("intro", "verse", "chorus", "outro"),
    "verse, pre-chorus, chorus, verse, pre-chorus, chorus": (
        "verse", "pre-chorus", "chorus", "verse", "pre-chorus", "chorus",
    ),
    "verse, chorus": ("verse", "chorus"),
}

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
