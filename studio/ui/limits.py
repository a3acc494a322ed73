"""The limits an engine's submit check enforces, read from the engine class (no model is loaded),
so the Create form can show each one before anything is submitted.

This is the one place the form learns them: class attributes every `MusicEngine` has
(`max_duration`, `max_steps`, `max_takes`, and where set `min_duration`), the v1 lyric-token and
line limits the v1 request check uses, and the lyric tokenizer, which needs only its vocabulary
file (a page never downloads it; the submit check may). Where an engine sets no limit the form's
own bounds apply.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from music.acestep_v1.common import MAX_LYRIC_TOKENS
from music.acestep_v1.lyric_frontend.tokenizer import LyricTokenizer  # tokenizers + langid: no torch
from music.acestep_v1.request_check import MAX_LYRIC_LINE_CHARS  # the submit check's own limit
from music.registry import engines
from studio.settings import Settings
from studio.ui.create_form import MAX_TAKES, engine_family

FORM_MAX_STEPS = 200  # the form's own bound when an engine names none
FORM_MAX_DURATION = 240


@dataclass(frozen=True, kw_only=True)
class EngineLimits:
    engine: str
    min_duration: int
    max_duration: int
    max_steps: int
    max_takes: int
    lyric_token_limit: int | None  # None: the engine counts no lyric tokens
    lyric_line_chars: int | None  # the longest lyric line the check accepts


def _engine_class(name: str):
    """The engine class behind a registered name, imported without building it; None for an
    engine whose optional libraries are missing (the submit check then names what is missing)."""
    try:
        return engines.engine_class(name)
    except (ImportError, ValueError):  # RequestError (unknown name) is a ValueError
        return None


def limits_for(engine: str) -> EngineLimits:
    cls = _engine_class(engine)
    max_duration = int(getattr(cls, "max_duration", FORM_MAX_DURATION) or FORM_MAX_DURATION)
    min_duration = max(1, int(getattr(cls, "min_duration", 1) or 1))
    v1 = engine_family(engine) == "v1"
    token_limit = line_chars = None
    if v1:
        token_limit, line_chars = MAX_LYRIC_TOKENS, MAX_LYRIC_LINE_CHARS
    return EngineLimits(
        engine=engine, min_duration=min_duration, max_duration=max(min_duration, max_duration),
        max_steps=int(getattr(cls, "max_steps", FORM_MAX_STEPS) or FORM_MAX_STEPS),
        max_takes=min(MAX_TAKES, int(getattr(cls, "max_takes", MAX_TAKES) or MAX_TAKES)),
        lyric_token_limit=token_limit, lyric_line_chars=line_chars,
    )


def lyric_vocab_path(settings: Settings, engine: str) -> Path | None:
    """The v1 lyric vocabulary when it is on this machine; never downloaded from a page."""
    option = settings.engine_options.get(engine, {}).get("lyric_vocab")
    path = Path(option).expanduser() if option else settings.model_cache / "ace-step-v1" / "lyrics_vocab.json"
    return path if path.is_file() else None


@functools.lru_cache(maxsize=2)
def _tokenizer(path: str) -> LyricTokenizer:
    return LyricTokenizer.from_file(path)


def count_lyric_tokens(settings: Settings, engine: str, lyrics: str) -> int | None:
    """The lyrics' length in the engine's lyric tokens, as the model will see them; None when the
    engine counts none or its vocabulary is not on this machine."""
    if engine_family(engine) != "v1":
        return None
    path = lyric_vocab_path(settings, engine)
    if path is None:
        return None
    try:
        return _tokenizer(str(path)).count_tokens(lyrics)
    except (OSError, ValueError):
        return None
