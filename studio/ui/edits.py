"""Song-page actions as music requests built from a stored take: retake, repaint, extend, edit,
audio-to-audio. Plain functions, so the rules are unit-tested without Streamlit.

Common fields (task, source audio, region, reference) travel in `MusicRequest`; the knobs only
ACE-Step v1 has travel in `options` by its upstream names, and only to v1-family engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from music.engine import MusicRequest, RequestError
from studio.ui.create_form import engine_family, random_seeds

MAX_TOTAL_SECONDS = 240.0


@dataclass(frozen=True, kw_only=True)
class Source:
    """The take an action starts from."""

    engine: str
    prompt: str
    lyrics: str
    duration: float
    seed: int
    master_path: str
    request: dict[str, Any]  # the request that made the take


def _base(source: Source, **fields: Any) -> dict[str, Any]:
    keep = {k: source.request[k] for k in ("steps", "guidance_scale") if source.request.get(k) is not None}
    return {"prompt": source.prompt, "lyrics": source.lyrics, "duration": source.duration, "batch_size": 1,
            **keep, **fields}


def _v1(source: Source, options: dict[str, Any]) -> dict[str, Any]:
    inherited = dict(source.request.get("options") or {}) if engine_family(source.engine) == "v1" else {}
    return {**inherited, **options} if engine_family(source.engine) == "v1" else {}


def retake(source: Source, *, variance: float, takes: int = 1) -> MusicRequest:
    """A variation: the take's own seed mixed with fresh noise by `variance` (0 = same, 1 = new)."""
    _check_unit("variance", variance)
    new = random_seeds(takes)
    return MusicRequest(**_base(source, task="retake", seeds=[source.seed] * takes, batch_size=takes),
                        options=_v1(source, {"retake_variance": variance, "retake_seeds": new}))


def repaint(source: Source, *, start: float, end: float, variance: float) -> MusicRequest:
    """Redo `start`..`end` seconds of the take, keeping the rest."""
    _check_unit("variance", variance)
    if not 0 <= start < end <= source.duration:
        raise RequestError(f"the region must lie inside the take (0 to {source.duration:.1f} s) and end after it "
                           f"starts; got {start:.1f} to {end:.1f} s")
    return MusicRequest(**_base(source, task="repaint", seeds=[source.seed], source_audio=source.master_path,
                                region_start=float(start), region_end=float(end)),
                        options=_v1(source, {"retake_variance": variance}))


def extend(source: Source, *, left: float, right: float) -> MusicRequest:
    """Add `left` seconds before and `right` after (a negative start and an end past the take)."""
    if left < 0 or right < 0 or left + right <= 0:
        raise RequestError("extend by a positive number of seconds on the left, the right or both")
    total = source.duration + left + right
    if total > MAX_TOTAL_SECONDS:
        raise RequestError(f"the extended song would be {total:.0f} s; the limit is {MAX_TOTAL_SECONDS:.0f} s")
    return MusicRequest(**_base(source, task="extend", duration=total, seeds=random_seeds(1),
                                source_audio=source.master_path, region_start=-float(left),
                                region_end=source.duration + float(right)),
                        options=_v1(source, {"retake_variance": 1.0}))


def edit(source: Source, *, prompt: str, lyrics: str, mode: str, presets: dict[str, dict[str, Any]]) -> MusicRequest:
    """Change the words (only_lyrics) or the style (remix) while keeping the take's shape;
    `presets`: the engine's named edit strengths (`Studio.engine_presets`)."""
    if mode not in presets:
        raise RequestError(f"edit mode must be one of {', '.join(presets) or 'none'}, got {mode!r}")
    if prompt.strip() == source.prompt.strip() and lyrics.strip() == source.lyrics.strip():
        raise RequestError("change the prompt or the lyrics first: the edit has nothing to change")
    return MusicRequest(**_base(source, task="edit", seeds=[source.seed], source_audio=source.master_path),
                        options=_v1(source, {"edit_target_prompt": prompt.strip(), "edit_target_lyrics": lyrics.strip(),
                                             **presets[mode]}))


def audio2audio(source: Source, *, reference_path: str, strength: float) -> MusicRequest:
    """A new song led by a reference recording (an upload or a library take)."""
    _check_unit("reference strength", strength)
    return MusicRequest(**_base(source, task="audio2audio", seeds=random_seeds(1), reference_audio=reference_path,
                                reference_strength=strength))


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise RequestError(f"{name} must be between 0 and 1, got {value}")
