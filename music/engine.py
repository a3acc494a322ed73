"""The one interface that joins the music engines to the worker, CLI and UI.

An engine turns a `MusicRequest` into a `MusicResult`. The worker neither knows nor
cares which engine ran: everything engine-specific travels in `MusicRequest.options`
(upstream keyword names for ACE-Step v1, diffusers names for ACE-Step 1.5).
"""

from __future__ import annotations

import abc
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Protocol

import numpy as np
from pydantic import TypeAdapter, ValidationError

TASKS_V1 = ("text2music", "retake", "repaint", "extend", "edit", "audio2audio")
TASKS_15_EXTRA = ("cover", "lego", "extract", "complete")
# Limits every engine enforces at submit unless it sets its own (class attributes of MusicEngine).
# Steps: the schedule holds one entry per step, so 10^8 steps exhausted memory before the first one.
# Takes: every take is one more row through the model and one more decoded song in memory.
DEFAULT_MAX_STEPS = 1000
DEFAULT_MAX_TAKES = 8


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
class CheckedRequest:
    """A request an engine's `check` accepted, without loading a model: defaults resolved, paths
    absolute, plus the facts the check learned (lyric tokens, source audio length ...). The worker
    hands it to `generate`, which runs it without checking again. Plain data, stored in the job."""

    engine: str
    request: MusicRequest
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "request": self.request.to_dict(), "facts": dict(self.facts)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckedRequest":
        return cls(engine=data["engine"], request=MusicRequest.from_dict(data["request"]),
                   facts=dict(data.get("facts") or {}))


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
    """Base class of the engines. Subclasses load their models lazily or in their factory.

    `check` is a class method: it needs no instance and no weights, so the studio runs it once at
    submit; `generate` takes the `CheckedRequest` it returns and runs it (a plain `MusicRequest`
    is checked first, for callers of the Python API that skip the studio)."""

    name: str = ""
    sample_rate: int = 44100
    max_duration: float = 240.0
    max_steps: int = DEFAULT_MAX_STEPS
    max_takes: int = DEFAULT_MAX_TAKES

    @classmethod
    def from_settings(cls, **settings: Any) -> "MusicEngine":
        """Build the engine from the studio's settings (device, dtype, model_dir, ...)."""
        return cls(**settings)

    @classmethod
    def tasks_for(cls, model_dir: str | None) -> tuple[str, ...]:
        """The tasks the model in `model_dir` (None: the default model) can run, known without loading it."""
        return ("text2music",)

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        """Named groups of `options` the CLI and UI offer (e.g. edit strengths); none by default."""
        return {}

    @classmethod
    def check(cls, request: MusicRequest, *, model_dir: str | None = None,
              settings: Mapping[str, Any] | None = None) -> CheckedRequest:
        """Every check that needs no weights; `RequestError` naming the limit or what to fix.
        `settings` are the engine's own settings (as `from_settings` takes them), for what a check
        needs to read, such as a tokenizer's vocabulary. Engines extend this and add their facts."""
        tasks = cls.tasks_for(model_dir)
        if request.task not in tasks:
            raise RequestError(f"engine {cls.name!r} cannot run task {request.task!r}; it runs: {', '.join(tasks)}")
        request = check_request(request, max_duration=cls.max_duration, max_steps=cls.max_steps,
                                max_takes=cls.max_takes)
        return CheckedRequest(engine=cls.name, request=request)

    def check_settings(self) -> dict[str, Any]:
        """The settings an instance passes to `check` (model_dir and what its checks read)."""
        return {}

    @classmethod
    def run_memory_bytes(cls, checked: CheckedRequest, *, settings: Mapping[str, Any]) -> int:
        """Estimated device memory a run needs beyond the loaded weights (activations, latents,
        decoded audio), from duration, takes and dtype. The default counts the decoded float32
        takes a few times over; engines with measured figures override it."""
        seconds = float(checked.facts.get("output_seconds", checked.request.duration))
        return int(checked.request.batch_size * seconds * cls.sample_rate * 2 * 4 * 4)

    @classmethod
    def stored_weight_bytes(cls, *, settings: Mapping[str, Any]) -> int:
        """Device memory the weights will take once loaded, estimated from their files without
        reading them (`settings` as `from_settings` takes them); 0 when unknown."""
        return 0

    def load(self) -> None:
        """Load the weights now (engines that load lazily), so the first job does not wait."""

    def weight_bytes(self) -> int:
        """Device memory the loaded weights take (parameters and buffers); 0 when unknown."""
        return 0

    def validate(self, request: MusicRequest) -> CheckedRequest:
        """`check` with this instance's model and settings."""
        settings = dict(self.check_settings())
        return type(self).check(request, model_dir=settings.pop("model_dir", None), settings=settings)

    def tasks(self) -> tuple[str, ...]:
        return type(self).tasks_for(self.check_settings().get("model_dir"))

    def generate(self, request: MusicRequest | CheckedRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        """Run a checked request (a plain one is checked first). Calls `progress(stage, step, total)`;
        lets `Cancelled` propagate."""
        checked = request if isinstance(request, CheckedRequest) else self.validate(request)
        return self.run(checked, progress)

    @abc.abstractmethod
    def run(self, checked: CheckedRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        """Run a request `check` accepted, without checking it again."""


def check_request(request: MusicRequest, *, max_duration: float, max_steps: int = DEFAULT_MAX_STEPS,
                  max_takes: int = DEFAULT_MAX_TAKES) -> MusicRequest:
    """The checks every engine shares (none needs an engine instance); returns the request with its
    audio paths made absolute against the current folder, so a worker elsewhere opens the same files."""
    if not (0 < request.duration <= max_duration):
        raise RequestError(f"duration must be in (0, {max_duration:g}] seconds (the engine's limit), got {request.duration:g}")
    if not request.prompt.strip() and not request.lyrics.strip() and request.task == "text2music":
        raise RequestError("give a prompt, lyrics or both")
    if request.batch_size < 1:
        raise RequestError("takes (batch_size) must be at least 1")
    if request.batch_size > max_takes:
        raise RequestError(f"{request.batch_size} takes is over the limit of {max_takes} takes per job; "
                           "queue several jobs for more")
    if request.steps is not None and not 1 <= request.steps <= max_steps:
        raise RequestError(f"steps must be in [1, {max_steps}] (the engine's steps limit), got {request.steps}")
    for name in ("guidance_scale", "region_start", "region_end", "reference_strength", "lora_weight"):
        value = getattr(request, name)
        # a stored spec is JSON: NaN / inf would come back as null, i.e. silently the default
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise RequestError(f"{name} must be a finite number, got {value!r}")
    if request.seeds is not None and len(request.seeds) not in (1, request.batch_size):
        raise RequestError(f"give one seed or one per take: {len(request.seeds)} seeds for {request.batch_size} takes")
    return replace(request, source_audio=absolute_path(request.source_audio),
                   reference_audio=absolute_path(request.reference_audio))


def absolute_path(path: str | None) -> str | None:
    """`path` against the current folder ('~' expanded); None stays None."""
    if not path:
        return path
    return os.path.abspath(Path(path).expanduser())
