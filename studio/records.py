"""What the CLI and the pages show of a job or a take: frozen snapshots made by the studio service.

Pages and commands read these instead of table rows, so a view never holds a database session
and never queries on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from studio.tables import Job, Take, utc

FILE_KINDS = ("master", "mp3", "preview", "waveform", "params")


@dataclass(frozen=True, kw_only=True)
class JobView:
    """A job as it stands, with its place in the queue (None unless queued)."""

    id: str
    kind: str
    status: str
    stage: str
    step: int
    total: int
    position: int | None
    error: str | None
    cancel_requested: bool
    result: dict[str, Any]
    created_at: datetime
    partial: str | None = None  # the text a lyrics job has written so far

    @classmethod
    def of(cls, job: Job, position: int | None) -> "JobView":
        return cls(
            id=job.id, kind=job.kind, status=job.status, stage=job.stage, step=job.step, total=job.total,
            position=position, error=job.error, cancel_requested=job.cancel_requested,
            result=json.loads(job.result) if job.result else {}, created_at=utc(job.created_at),
            partial=job.partial,
        )

    @property
    def progress(self) -> float:
        return self.step / self.total if self.total else 0.0


@dataclass(frozen=True, kw_only=True)
class TakeView:
    id: int
    job_id: str
    title: str
    prompt: str
    lyrics: str
    task: str
    engine: str
    model_id: str
    seed: int
    duration: float
    sample_rate: int
    folder: str
    files: dict[str, str]
    audio_sha256: str
    parent_take_id: int | None
    favourite: bool
    rating: int
    trashed: bool
    created_at: datetime
    parameters_json: str
    song_id: int | None = None
    recipe_sha256: str | None = None  # 0x + sha256 of the recipe (how it was made), when recorded
    made_by: str = ""  # what made it ("take 3", "repaint 0:12–0:20"); empty for takes older than songs

    @classmethod
    def of(cls, row: Take) -> "TakeView":
        return cls(
            id=row.id, job_id=row.job_id, title=row.title, prompt=row.prompt, lyrics=row.lyrics, task=row.task,
            engine=row.engine, model_id=row.model_id, seed=row.seed, duration=row.duration,
            sample_rate=row.sample_rate, folder=row.folder,
            files={kind: getattr(row, f"{kind}_file") for kind in FILE_KINDS}, audio_sha256=row.audio_sha256,
            parent_take_id=row.parent_take_id, favourite=row.favourite, rating=row.rating,
            trashed=row.trashed_at is not None, created_at=utc(row.created_at), parameters_json=row.parameters,
            song_id=row.song_id, made_by=row.made_by, recipe_sha256=row.recipe_sha256,
        )

    @property
    def parameters(self) -> dict[str, Any]:
        """Everything stored about how the take was made (the worker's parameters JSON)."""
        return json.loads(self.parameters_json or "{}")

    @property
    def request(self) -> dict[str, Any]:
        """The music request that made the take, as submitted."""
        return dict(self.parameters.get("request") or {})


@dataclass(frozen=True, kw_only=True)
class LibraryQuery:
    """A library search as a page or command asks for it; `sort` is one of the library's sort names
    ("relevance" falls back to "newest" when there is no text to rank by)."""

    text: str = ""
    engine: str | None = None
    favourites_only: bool = False
    trashed: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    sort: str = "newest"


@dataclass(frozen=True, kw_only=True)
class DraftSection:
    tag: str
    text: str  # the lines exactly as typed


@dataclass(frozen=True, kw_only=True)
class Draft:
    """A song's lyric draft as the Write page edits it: sections in order, each with its text as typed."""

    sections: tuple[DraftSection, ...] = ()

    @classmethod
    def from_json(cls, text: str) -> "Draft":
        data = json.loads(text or "{}")
        return cls(sections=tuple(DraftSection(tag=str(s.get("tag") or "verse"), text=str(s.get("text") or ""))
                                  for s in data.get("sections") or ()))

    def to_json(self, title: str) -> str:
        return json.dumps({"title": title, "sections": [{"tag": s.tag, "text": s.text} for s in self.sections]},
                          ensure_ascii=False)


@dataclass(frozen=True, kw_only=True)
class SongView:
    id: int
    title: str
    notes: str
    draft: Draft
    lyrics: str  # the draft rendered as lyrics text (what Create sends)
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class SongVersionView:
    number: int
    title: str
    notes: str
    draft: Draft
    lyrics: str
    created_at: datetime
