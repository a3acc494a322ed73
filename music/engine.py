"""The one interface that joins the music engines to the worker, CLI and UI.

An engine turns a `MusicRequest` into a `MusicResult`. The worker neither knows nor
cares which engine ran: everything engine-specific travels in `MusicRequest.options`
(upstream keyword names for ACE-Step v1, diffusers names for ACE-Step 1.5).
"""

from __future__ import annotations

import abc
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

TASKS_V1 = ("text2music", "retake", "repaint", "extend", "edit", "audio2audio")
TASKS_15_EXTRA = ("cover", "lego", "extract", "complete")


class Cancelled(Exception):
    """Raised (usually by a progress callback) to stop a generation at the next step."""


class RequestError(ValueError):
    """A request the engine cannot serve; the message says what to change."""


class ProgressCallback(Protocol):
    def __call__(self, stage: str, step: int, total: int) -> None:
        """Report progress. May raise `Cancelled` to stop the run at this point."""


def no_progress(stage: str, step: int, total: int) -> None:
    return None


def none_text_as_empty(request: dict[str, Any]) -> dict[str, Any]:
    """A request dict with None as prompt / lyrics read as "none" ("", as upstream's lyrics=None
    crash is not copied), so every reader of the request sees text."""
    return {k: "" if k in ("prompt", "lyrics") and v is None else v for k, v in request.items()}


@dataclass(kw_only=True)
class MusicRequest:
    """What to generate. Plain data: it is stored as JSON in the job spec."""

    task: str = "text2music"
    prompt: str = ""
    lyrics: str = ""
    duration: float = 30.0
    seeds: list[int] | None = None  # one per take; None draws random seeds (recorded in the result)
    batch_size: int = 1
    steps: int | None = None  # None = the engine's default
    guidance_scale: float | None = None
    # audio inputs (paths) and regions, for the editing tasks
    source_audio: str | None = None
    region_start: float | None = None
    region_end: float | None = None
    reference_audio: str | None = None
    reference_strength: float | None = None
    lora: str | None = None
    lora_weight: float = 1.0
    # engine-specific options, by the engine's own (upstream) names
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MusicRequest":
        from pydantic import TypeAdapter, ValidationError

        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequestError(f"unknown request field(s): {', '.join(unknown)}")
        # other fields are type-checked here so a wrong type is a message, not a TypeError deep in an engine
        data = none_text_as_empty(data)
        try:
            return TypeAdapter(cls).validate_python(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise RequestError(f"bad request field(s): {problems}") from None


@dataclass(kw_only=True)
class RenderedTake:
    """One take's audio as an engine renders it (the library's row for a stored take is studio.tables.Take)."""

    audio: np.ndarray  # float32, shape (channels, samples)
    seed: int


@dataclass(kw_only=True)
class MusicResult:
    takes: list[RenderedTake]
    sample_rate: int
    engine: str
    model_id: str
    revision: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # the exact parameters used
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


class MusicEngine(abc.ABC):
    """Base class of the engines. Subclasses load their models lazily or in their factory."""

    name: str = ""
    sample_rate: int = 44100
    max_duration: float = 240.0

    def validate(self, request: MusicRequest) -> None:
        """Reject a request before any model work; raise `RequestError` naming what to fix."""
        if request.task not in self.tasks():
            raise RequestError(
                f"engine {self.name!r} cannot run task {request.task!r}; it runs: {', '.join(self.tasks())}"
            )
        check_request(request, max_duration=self.max_duration)

    def tasks(self) -> tuple[str, ...]:
        return ("text2music",)

    @abc.abstractmethod
    def generate(self, request: MusicRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        """Run the request. Calls `progress(stage, step, total)`; lets `Cancelled` propagate."""


def check_request(request: MusicRequest, *, max_duration: float) -> None:
    """The checks every engine shares; none needs an engine instance (the studio runs them at submit)."""
    if not (0 < request.duration <= max_duration):
        raise RequestError(f"duration must be in (0, {max_duration:g}] seconds, got {request.duration:g}")
    if not request.prompt.strip() and not request.lyrics.strip() and request.task == "text2music":
        raise RequestError("give a prompt, lyrics or both")
    if request.batch_size < 1:
        raise RequestError("batch_size must be at least 1")
    for name in ("guidance_scale", "region_start", "region_end", "reference_strength", "lora_weight"):
        value = getattr(request, name)
        # a stored spec is JSON: NaN / inf would come back as null, i.e. silently the default
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise RequestError(f"{name} must be a finite number, got {value!r}")
    if request.seeds is not None and len(request.seeds) not in (1, request.batch_size):
        raise RequestError(f"give one seed or one per take: {len(request.seeds)} seeds for {request.batch_size} takes")


EngineFactory = Callable[..., MusicEngine]
