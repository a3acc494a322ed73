"""Job specs: what a person asks for, checked before anything is queued.

A spec is plain data stored as JSON in the job row, so a failed job can be retried as is.
Checks here are the ones possible without loading a model; the worker re-checks with the
loaded engine (`MusicEngine.validate`) before any model work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from music.engine import MusicEngine, MusicRequest, RequestError
from studio.errors import BadInput


class MusicJobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["music"] = "music"
    engine: str
    model: str | None = None  # a model name in the cache or a folder; None: the engine's default
    request: dict[str, Any]
    title: str = ""
    tags: list[str] = Field(default_factory=list)
    parent_take_id: int | None = None

    def music_request(self) -> MusicRequest:
        try:
            return MusicRequest.from_dict(self.request)
        except (RequestError, TypeError) as exc:
            raise BadInput(f"bad music request: {exc}") from None


class LyricsJobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["lyrics"] = "lyrics"
    backend: str
    backend_options: dict[str, Any] = Field(default_factory=dict)
    theme: str
    genre: str = ""
    mood: str = ""
    language: str = "en"
    structure: list[str] | str | None = None
    length: str | None = None


JobSpec = MusicJobSpec | LyricsJobSpec


def parse_spec(data: dict[str, Any]) -> JobSpec:
    kind = data.get("kind", "music")
    cls = {"music": MusicJobSpec, "lyrics": LyricsJobSpec}.get(kind)
    if cls is None:
        raise BadInput(f"unknown job kind {kind!r}; use 'music' or 'lyrics'")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise BadInput(f"bad {kind} job: {problems}") from None


def check_music_spec(spec: MusicJobSpec, *, engine_names: list[str]) -> MusicRequest:
    """Reject what can be rejected without a model: unknown engine, bad request, unreadable audio."""
    from music.registry import engines  # the registry holds import strings only: cheap

    if spec.engine not in engine_names:
        raise BadInput(f"unknown engine {spec.engine!r}; known engines: {', '.join(engine_names)}")
    request = spec.music_request()
    if request.duration <= 0:
        raise BadInput(f"duration must be positive, got {request.duration:g} s")
    if request.task == "text2music" and not request.prompt.strip() and not request.lyrics.strip():
        raise BadInput("give a prompt, lyrics or both")
    engine_cls = _engine_class(engines, spec.engine)
    if engine_cls is not None:
        probe = engine_cls.__new__(engine_cls)  # class-level limits only; no model is built
        try:
            engine_cls.validate(probe, request)
        except RequestError as exc:
            raise BadInput(str(exc)) from None
        except AttributeError:
            pass  # this engine's checks need a built instance: the worker runs them
    for label, path in (("source audio", request.source_audio), ("reference audio", request.reference_audio)):
        if path:
            from studio.audio_files import check_readable_audio

            check_readable_audio(Path(path), label=label)
    return request


def _engine_class(registry, name: str) -> type[MusicEngine] | None:
    """The engine class behind a `Class.factory` classmethod, imported lazily (no model load)."""
    try:
        factory = registry.factory(name)
    except ImportError:
        return None  # an engine whose optional dependencies are missing: the worker reports it
    owner = getattr(factory, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, MusicEngine):
        return owner
    if isinstance(factory, type) and issubclass(factory, MusicEngine):
        return factory
    return None
