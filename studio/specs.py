"""Job specs: what a person asks for, checked before anything is queued.

A spec is plain data stored as JSON in the job row, so a failed job can be retried as is.
Every check happens here, once, without loading a model: a music request goes through its
engine's `check` (via the registry) and is stored as checked (defaults filled in, audio paths
absolute, `facts` such as lyric tokens); the worker runs it without checking again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lyrics.format import Lyrics
from music.engine import CheckedRequest, MusicRequest, RequestError, none_text_as_empty
from music.registry import engines
from studio.audio_files import check_readable_audio
from studio.errors import BadInput, EnvironmentProblem
from studio.lyrics_jobs import check_draft_request
from studio.lyrics_limits import check_lyrics_context, check_theme_length
from studio.model_store import resolve_model_dir
from studio.settings import Settings
from studio.train_spec import TrainJobSpec


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
    # set by `check_music_spec`: what the engine's check learned; None on a spec not checked yet
    facts: dict[str, Any] | None = None
    adapter: dict[str, Any] | None = None  # a library LoRA adapter named in `lora` (studio.adapter_store)

    @field_validator("request")
    @classmethod
    def _no_null_text(cls, request: dict[str, Any]) -> dict[str, Any]:
        return none_text_as_empty(request)  # stored as "", so every reader of the spec sees text

    def music_request(self) -> MusicRequest:
        try:
            return MusicRequest.from_dict(self.request)
        except (RequestError, TypeError) as exc:
            raise BadInput(f"bad music request: {exc}") from None

    def checked_request(self) -> CheckedRequest | None:
        """The request as its engine's check left it, or None when this spec was never checked."""
        if self.facts is None:
            return None
        return CheckedRequest(engine=self.engine, request=self.music_request(), facts=self.facts)


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
    bpm: float | None = None  # draft: with a length in seconds, sets the syllables per line
    rhyme: str = "AABB"  # draft: AABB, ABAB, ABCB or none
    candidates: int | None = None  # draft: per line (llama.cpp) or per draft; None: the writer's default

    def existing_lyrics(self):
        """The `lyrics` field as `lyrics.format.Lyrics`; BadInput when absent or empty."""

        if self.lyrics is None or (isinstance(self.lyrics, str) and not self.lyrics.strip()):
            raise BadInput(f"a lyrics {self.action} job needs the existing lyrics (the `lyrics` field)")
        try:
            parsed = Lyrics.from_dict(self.lyrics) if isinstance(self.lyrics, dict) else Lyrics.parse(self.lyrics)
        except ValueError as exc:
            raise BadInput(f"unreadable lyrics: {exc}") from None
        if not parsed.sections:
            raise BadInput(f"the lyrics to {self.action} have no sections; write or add a section first")
        return parsed


def check_lyrics_spec(spec: LyricsJobSpec, *, backend_options: dict[str, Any] | None = None) -> None:
    """What each action needs, checked before the job is queued (no model is loaded); the user's
    text must fit the lyrics model's context (`backend_options` as the worker will build it)."""
    options = {**(backend_options or {}), **spec.backend_options}
    if spec.action == "draft":
        if not spec.theme.strip():
            raise BadInput("give a theme for the lyrics")
        check_theme_length(spec.theme.strip())
        check_draft_request(spec)
        check_lyrics_context({"theme": spec.theme, "genre": spec.genre, "mood": spec.mood},
                             backend=spec.backend, options=options)
        return
    lyrics = spec.existing_lyrics()
    check_lyrics_context({"lyrics": lyrics.render(), "instruction": spec.instruction},
                         backend=spec.backend, options=options)
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


JobSpec = MusicJobSpec | LyricsJobSpec | TrainJobSpec


def parse_spec(data: dict[str, Any]) -> JobSpec:
    kind = data.get("kind", "music")
    cls = {"music": MusicJobSpec, "lyrics": LyricsJobSpec, "train": TrainJobSpec}.get(kind)
    if cls is None:
        raise BadInput(f"unknown job kind {kind!r}; use 'music', 'lyrics' or 'train'")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise BadInput(f"bad {kind} job: {problems}") from None


def engine_settings(settings: Settings, *, engine: str, model_dir: Path | None) -> dict[str, Any]:
    """The settings an engine is built with (and checked against), as the worker passes them."""
    kwargs: dict[str, Any] = {"cache_dir": str(settings.model_cache)}
    if model_dir is not None:
        kwargs["model_dir"] = str(model_dir)
    if settings.dtype:
        kwargs["dtype"] = settings.dtype
    kwargs.update(settings.engine_options.get(engine, {}))
    return kwargs


def check_music_spec(spec: MusicJobSpec, *, settings: Settings) -> MusicJobSpec:
    """The engine's model-free check, once, at submit: the spec to queue (checked request and its
    facts), or BadInput naming the limit or what to fix."""
    if spec.engine not in engines.names():
        raise BadInput(f"unknown engine {spec.engine!r}; known engines: {', '.join(engines.names())}")
    request = spec.music_request()
    for label, path in (("source audio", request.source_audio), ("reference audio", request.reference_audio)):
        if path:
            check_readable_audio(Path(path).expanduser(), label=label)
    checked = check_with_engine(spec, request, settings=settings)
    return spec.model_copy(update={"request": checked.request.to_dict(), "facts": checked.facts})


def check_with_engine(spec: MusicJobSpec, request: MusicRequest, *, settings: Settings) -> CheckedRequest:
    model_dir = resolve_model_dir(settings, engine=spec.engine, model=spec.model)
    options = engine_settings(settings, engine=spec.engine, model_dir=model_dir)
    for name in ("dtype", "offload"):  # how to run, not what to run
        options.pop(name, None)
    # where it runs does decide what can run (ACE-Step v1's int8 fast mode is CPU only): an engine
    # option pins the device, else the studio's setting ("auto" is resolved by the engine's check)
    options["device"] = options.get("device") or settings.device
    try:
        return engines.check(spec.engine, request, model_dir=options.pop("model_dir", None), settings=options)
    except RequestError as exc:
        raise BadInput(str(exc)) from None
    except ImportError as exc:
        raise EnvironmentProblem(f"engine {spec.engine!r} needs a library that is not installed: {exc}") from None
