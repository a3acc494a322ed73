"""The `train` job's spec and its submit-time checks (the worker's side is studio/training_jobs.py).

The spec is self-contained (every clip's file, tags and lyrics; takes are resolved to their
master files when submitted), so a failed or cancelled job can be retried as it is. Everything
checkable without a model is checked at submit: engine, name, limits, and every clip decoded and
checked (a bad clip is named).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from music.engine import RequestError
from music.training.clips import ClipError, ClipSource, check_clips, clips_from_folder
from music.training.loop import TrainSettings
from studio.adapter_store import AdapterStore, check_adapter_name
from studio.errors import BadInput

# engine -> (sample rate of its clips, longest clip in seconds)
TRAINABLE = {"ace-step-v1": (44100, 240.0), "ace-step-1.5": (48000, 600.0)}
DEFAULTS = {"steps": 500, "rank": 16, "learning_rate": 1e-4}


class TrainClip(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    tags: str
    lyrics: str = ""
    label: str = ""

    def source(self) -> ClipSource:
        return ClipSource(path=Path(self.path), tags=self.tags, lyrics=self.lyrics, label=self.label)


class TrainJobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["train"] = "train"
    engine: str
    model: str | None = None
    name: str
    clips: list[TrainClip]
    take_ids: list[int] = Field(default_factory=list)  # where clips came from the library (provenance)
    steps: int = DEFAULTS["steps"]
    rank: int = DEFAULTS["rank"]
    learning_rate: float = DEFAULTS["learning_rate"]
    seed: int = 0
    checkpoint_every: int = 50
    window_seconds: float = 30.0

    def settings(self) -> TrainSettings:
        try:
            return TrainSettings(steps=self.steps, rank=self.rank, learning_rate=self.learning_rate, seed=self.seed,
                                 checkpoint_every=self.checkpoint_every, window_seconds=self.window_seconds)
        except RequestError as exc:
            raise BadInput(str(exc)) from None


def adapters_dir(settings) -> Path:
    return settings.home / "adapters"


def work_dir(settings, job_id: str) -> Path:
    """A job's checkpoints (removed when it is done)."""
    return settings.home / "training" / job_id


def features_dir(settings) -> Path:
    """Cached window features, shared by all train jobs (keyed by content and model digest)."""
    return settings.home / "training" / "features"


def clips_from_data(data: str, *, library, media_dir: Path) -> tuple[list[TrainClip], list[int]]:
    """`data` is a folder of clips with sidecars, or take ids ("12,15,18"): their master files,
    with each take's prompt as tags and its lyrics."""
    text = data.strip()
    if text and all(part.strip().isdigit() for part in text.split(",")):
        ids = [int(part) for part in text.split(",")]
        clips = []
        for take_id in ids:
            take = library.get(take_id)
            clips.append(TrainClip(path=str(media_dir / take.master_file), tags=take.prompt or take.tags or take.title,
                                   lyrics=take.lyrics, label=f"take {take_id}"))
        return clips, ids
    try:
        return [TrainClip(path=str(c.path.resolve()), tags=c.tags, lyrics=c.lyrics, label=c.label)
                for c in clips_from_folder(text)], []
    except ClipError as exc:
        raise BadInput(str(exc)) from None


def check_train_spec(spec: TrainJobSpec, *, adapters: AdapterStore) -> None:
    """Everything a train job needs, checked before it is queued."""
    if spec.engine not in TRAINABLE:
        raise BadInput(f"engine {spec.engine!r} cannot train adapters; use one of: {', '.join(TRAINABLE)}")
    check_adapter_name(spec.name)
    adapters.check_new_name(spec.name)
    spec.settings()
    if not spec.clips:
        raise BadInput("the dataset has no clips: give a folder of clips or take ids")
    rate, longest = TRAINABLE[spec.engine]
    try:
        check_clips([c.source() for c in spec.clips], sample_rate=rate, max_seconds=longest)
    except ClipError as exc:
        raise BadInput(str(exc)) from None
