"""Jobs as the jobs panel reads them, straight from the jobs table (the one source of truth): the
fields the panel shows (spec as submitted, stage times, the takes made) and the queries it runs.
Only the job store is used, so this works whatever handle a page holds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from studio.errors import BadInput, NotFound
from studio.job_timeline import FinishedRun, run_of
from studio.jobs import ACTIVE, JobStore
from studio.tables import Job, utc


@dataclass(frozen=True, kw_only=True)
class PanelJob:
    id: str
    kind: str
    status: str
    stage: str
    step: int
    total: int
    position: int | None  # 1 = next to run; None unless queued
    error: str | None
    cancel_requested: bool
    result: dict[str, Any]
    created_at: datetime
    partial: str | None = None  # the text a lyrics job has written so far
    spec: dict[str, Any] = field(default_factory=dict)  # as submitted (a reload restores the form from it)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timeline: str | None = None  # stage times (studio.job_timeline), for time estimates

    @classmethod
    def of(cls, job: Job, position: int | None) -> "PanelJob":
        return cls(
            id=job.id, kind=job.kind, status=job.status, stage=job.stage, step=job.step, total=job.total,
            position=position, error=job.error, cancel_requested=job.cancel_requested,
            result=_json_dict(job.result), created_at=utc(job.created_at), partial=job.partial,
            spec=_json_dict(job.spec), started_at=utc(job.started_at), finished_at=utc(job.finished_at),
            timeline=job.timeline,
        )

    @property
    def take_ids(self) -> list[int]:
        return [int(i) for i in self.result.get("take_ids") or []]


def _json_dict(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def panel_job(jobs: JobStore, job_id: str) -> PanelJob | None:
    try:
        job = jobs.get(job_id)
    except (NotFound, BadInput):
        return None
    return PanelJob.of(job, jobs.queue_position(job))


def active_and_recent(jobs: JobStore, *, recent: int = 10) -> list[PanelJob]:
    """Every running and queued job (running first, then in queue order), then the `recent`
    newest finished ones."""
    active = jobs.list_active()
    positions = {job.id: n for n, job in enumerate((j for j in active if j.status == "queued"), start=1)}
    finished = [j for j in jobs.list(limit=recent + len(active)) if j.status not in ACTIVE][:recent]
    return [PanelJob.of(j, positions.get(j.id)) for j in active] + [PanelJob.of(j, None) for j in finished]


def finished_runs(jobs: JobStore, kind: str, *, limit: int = 10) -> list[FinishedRun]:
    """How long the newest done jobs of a kind ran, with their stage times (for estimates)."""
    runs = (run_of(utc(j.started_at), utc(j.finished_at), j.timeline)
            for j in jobs.list(status="done", kind=kind, limit=limit))
    return [r for r in runs if r is not None]


