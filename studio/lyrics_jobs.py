"""Lyrics jobs between the queue and the lyrics stage: the draft checks made before queueing,
the model a job runs on, and what its result records (which model wrote it, the quality report
with the syllable targets per line)."""

from __future__ import annotations

from typing import Any

from lyrics.budget import plan_song
from lyrics.errors import LyricsRequestError
from lyrics.writer import MAX_CANDIDATES, parse_structure
from studio.errors import BadInput
from studio.lyrics_model import LyricsModel, choose
from studio.settings import Settings


def check_draft_request(spec: Any) -> None:
    """Tempo, duration, rhyme scheme, candidates and structure of a draft, before it is queued."""
    if spec.candidates is not None and not 1 <= spec.candidates <= MAX_CANDIDATES:
        raise BadInput(f"candidates must be 1 to {MAX_CANDIDATES}, not {spec.candidates}")
    duration = spec.length if isinstance(spec.length, (int, float)) and not isinstance(spec.length, bool) else None
    if duration is None and spec.length not in ("short", "medium", "long"):
        raise BadInput(f"length must be short, medium, long or a duration in seconds, not {spec.length!r}")
    try:
        structure = parse_structure(spec.structure) or ("verse", "chorus")
        plan_song(structure, bpm=spec.bpm, duration_s=duration, rhyme_scheme=spec.rhyme)
    except LyricsRequestError as exc:
        raise BadInput(str(exc)) from None


def model_for(settings: Settings, spec: Any) -> LyricsModel:
    return choose(settings, spec.backend, spec.backend_options)


def draft_options(spec: Any) -> dict[str, Any]:
    """The draft-only writer arguments of a spec."""
    return {"bpm": spec.bpm, "rhyme": spec.rhyme, "candidates": spec.candidates}


def result_extras(stream: Any, model: LyricsModel) -> dict[str, Any]:
    """What the job result adds to the lyrics: the model in words and, for drafts, the quality
    report (targets per line, hints)."""
    extras: dict[str, Any] = {"model": {"label": model.label, "kind": model.kind, "note": model.note,
                                        "small": model.small}}
    quality = getattr(stream, "quality", None)
    if quality is not None:
        extras["quality"] = quality.to_dict()
    return extras
