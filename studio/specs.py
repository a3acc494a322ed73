"""Job specs: what a person asks for, checked before anything is queued.

A spec is plain data stored as JSON in the job row, so a failed job can be retried as is.
Checks here are the ones possible without loading a model; the worker re-checks with the
loaded engine (`MusicEngine.validate`) before any model work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from music.engine import MusicEngine, MusicRequest, RequestError, check_request, none_text_as_empty
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
    song_id: int | None = None  # the song the takes belong to (named "<song> · <what made it>")

    @field_validator("request")
    @classmethod
    def _no_null_text(cls, request: dict[str, Any]) -> dict[str, Any]:
        return none_text_as_empty(request)  # stored as "", so every reader of the spec sees text

    def music_request(self) -> MusicRequest:
        try:
            return MusicRequest.from_dict(self.request)
        except (RequestError, TypeError) as exc:
            raise BadInput(f"bad music request: {exc}") from None


class LyricsJobSpec(BaseModel):
    """draft: a new song from a theme; rewrite: one `section` of `lyrics` with an `instruction`;
    continue: `sections` more after `lyrics`; titles: `count` title ideas for `lyrics`."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["lyrics"] = "lyrics"
    action: Literal["draft", "rewrite", "continue", "titles"] = "draft"
    backend: str
    backend_options: dict[str, Any] = Field(default_factory=dict)
    theme: str = ""
    genre: str = ""
    mood: str = ""
    language: str = "en"
    structure: list[str] | str | None = None
    length: str | int = "medium"  # short | medium | long, or seconds
    lyrics: str | dict[str, Any] | None = None  # the existing lyrics: text, or Lyrics.to_dict()
    section: int | str | None = None  # rewrite: 0-based index, a tag ("chorus") or a header ("Verse 2")
    instruction: str = ""
    sections: int | list[str] | str = 1  # continue: how many, or which tags
    count: int = 5  # titles
    seed: int | None = None  # for backends that take one (the writer says which do not)

    def existing_lyrics(self):
        """The `lyrics` field as `lyrics.format.Lyrics`; BadInput when absent or empty."""
        from lyrics.format import Lyrics

        if self.lyrics is None or (isinstance(self.lyrics, str) and not self.lyrics.strip()):
            raise BadInput(f"a lyrics {self.action} job needs the existing lyrics (the `lyrics` field)")
        try:
            parsed = Lyrics.from_dict(self.lyrics) if isinstance(self.lyrics, dict) else Lyrics.parse(self.lyrics)
        except ValueError as exc:
            raise BadInput(f"unreadable lyrics: {exc}") from None
        if not parsed.sections:
            raise BadInput(f"the lyrics to {self.action} have no sections; write or add a section first")
        return parsed


def check_lyrics_spec(spec: LyricsJobSpec) -> None:
    """What each action needs, checked before the job is queued (no model is loaded)."""
    if spec.action == "draft":
        if not spec.theme.strip():
            raise BadInput("give a theme for the lyrics")
        return
    lyrics = spec.existing_lyrics()
    if spec.action == "rewrite":
        if spec.section is None or (isinstance(spec.section, str) and not spec.section.strip()):
            raise BadInput("say which section to rewrite: its number from 0, a tag such as 'chorus' or 'Verse 2'")
        try:
            lyrics.find(spec.section)
        except (KeyError, IndexError) as exc:
            raise BadInput(str(exc.args[0])) from None
        if not spec.instruction.strip():
            raise BadInput("say how to rewrite the section, e.g. 'more hopeful'")
    elif spec.action == "continue":
        if isinstance(spec.sections, int) and not 1 <= spec.sections <= 4:
            raise BadInput(f"continue with 1 to 4 sections, not {spec.sections}")
    elif spec.action == "titles":
        if not 1 <= spec.count <= 20:
            raise BadInput(f"ask for 1 to 20 titles, not {spec.count}")
        if not any(section.lines for section in lyrics.sections):
            raise BadInput("the lyrics have no lines to name")


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
            # this engine's own checks need a built instance (the worker runs them); the shared
            # ones (duration, prompt or lyrics, takes, seeds) need none
            try:
                check_request(request, max_duration=engine_cls.max_duration)
            except RequestError as exc:
                raise BadInput(str(exc)) from None
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
