"""The jobs table as the single source of truth for the queue.

Every state change is one conditional UPDATE, so it is atomic on SQLite and PostgreSQL alike:
a claim only succeeds on a row that is still `queued`, progress and results are only accepted
from the worker that holds the claim, and cancel/retry only move rows in the states they name.
The broker (Huey) merely wakes workers up; losing or duplicating a wake-up cannot lose or
double a job.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from studio.db import Database
from studio.errors import BadInput, NotFound
from studio.specs import JobSpec
from studio.tables import Job, now_utc, utc

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")


class LostClaim(Exception):
    """This worker no longer holds the job (it was re-queued as stale): stop without writing."""


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Recovery:
    requeued: list[str]
    failed: list[str]
    cancelled: list[str] = field(default_factory=list)


class JobStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- submitting and reading -------------------------------------------------------------

    def insert(self, spec: JobSpec) -> Job:
        job = Job(id=new_job_id(), kind=spec.kind, spec=spec.model_dump_json())
        with self.db.write() as session:
            session.add(job)
        return job

    def get(self, job_id: str) -> Job:
        """A job by id or by a unique id prefix (the CLI prints 12 characters; 4 usually do)."""
        with self.db.read() as session:
            job = session.get(Job, job_id)
            if job is None and job_id:
                matches = session.exec(select(Job).where(col(Job.id).startswith(job_id, autoescape=True)).limit(2)).all()
                if len(matches) > 1:
                    raise BadInput(f"job id prefix {job_id!r} is ambiguous; give more characters")
                job = matches[0] if matches else None
        if job is None:
            raise NotFound(f"no job {job_id!r}; `songstudio jobs list` shows the jobs")
        return job

    def list(self, *, status: str | None = None, kind: str | None = None, limit: int = 50) -> list[Job]:
        with self.db.read() as session:
            query = select(Job).order_by(col(Job.created_at).desc(), col(Job.id)).limit(limit)
            if status:
                query = query.where(Job.status == status)
            if kind:
                query = query.where(Job.kind == kind)
            return list(session.exec(query).all())

    def list_active(self) -> list[Job]:
        """Running jobs (oldest start first), then queued ones in the order they will run."""
        with self.db.read() as session:
            running = session.exec(select(Job).where(Job.status == "running").order_by(col(Job.started_at))).all()
            queued = session.exec(
                select(Job).where(Job.status == "queued").order_by(col(Job.queued_at), col(Job.id))).all()
        return [*running, *queued]

    def queue_position(self, job: Job) -> int | None:
        """1 = next to run. None when the job is not waiting."""
        if job.status != "queued":
            return None
        with self.db.read() as session:
            ahead = session.exec(
                select(sa.func.count())
                .select_from(Job)
                .where(Job.status == "queued")
                .where(
                    sa.or_(
                        col(Job.queued_at) < job.queued_at,
                        sa.and_(col(Job.queued_at) == job.queued_at, col(Job.id) < job.id),
                    )
                )
            ).one()
        return int(ahead) + 1

    def count(self, status: str) -> int:
        with self.db.read() as session:
            return int(session.exec(select(sa.func.count()).select_from(Job).where(Job.status == status)).one())

    # -- the worker's side ------------------------------------------------------------------

    def claim_next(self, *, worker: str, device: str) -> Job | None:
        """Atomically take the oldest queued job, or None when there is none."""
        for _ in range(20):  # another worker may win the race for a candidate; try the next one
            with self.db.read() as session:
                candidate = session.exec(
                    select(Job.id).where(Job.status == "queued").order_by(col(Job.queued_at), col(Job.id)).limit(1)
                ).first()
            if candidate is None:
                return None
            now = now_utc()
            won = self._update(
                candidate,
                {"status": "queued"},
                status="running",
                stage="starting",
                step=0,
                total=0,
                worker=worker,
                device=device,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                error=None,
                partial=None,
                timeline=None,
            )
            if won:
                return self.get(candidate)
        return None

    def report(self, job_id: str, *, worker: str, stage: str, step: int, total: int,
               partial: str | None = None, timeline: str | None = None) -> bool:
        """Record progress (and, for streamed text, what is written so far; the stage times of
        `studio.job_timeline` for time estimates); returns True when a cancel was requested.
        Raises LostClaim."""
        values: dict[str, Any] = {"partial": partial} if partial is not None else {}
        if timeline is not None:
            values["timeline"] = timeline
        if not self._update(
            job_id,
            {"status": "running", "worker": worker},
            stage=stage,
            step=step,
            total=total,
            heartbeat_at=now_utc(),
            **values,
        ):
            raise LostClaim(job_id)
        with self.db.read() as session:
            return bool(session.exec(select(Job.cancel_requested).where(Job.id == job_id)).one())

    def heartbeat(self, job_id: str, *, worker: str) -> bool:
        return self._update(job_id, {"status": "running", "worker": worker}, heartbeat_at=now_utc())

    def finish(self, session, job_id: str, *, worker: str, result: dict[str, Any]) -> bool:
        """Mark done inside the caller's transaction (the takes are inserted in the same one)."""
        return self._update(
            job_id,
            {"status": "running", "worker": worker},
            session=session,
            status="done",
            stage="done",
            result=json.dumps(result),
            finished_at=now_utc(),
        )

    def fail(self, job_id: str, *, worker: str, error: str) -> bool:
        return self._update(
            job_id,
            {"status": "running", "worker": worker},
            status="failed",
            stage="failed",
            error=error,
            finished_at=now_utc(),
        )

    def mark_cancelled(self, job_id: str, *, worker: str) -> bool:
        return self._update(
            job_id,
            {"status": "running", "worker": worker},
            status="cancelled",
            stage="cancelled",
            finished_at=now_utc(),
        )

    def release(self, job_id: str, *, worker: str) -> bool:
        """Hand a running job back to the queue (the worker is shutting down)."""
        return self._update(
            job_id, {"status": "running", "worker": worker}, status="queued", stage="queued", step=0, total=0, worker=None,
            timeline=None,
        )

    # -- a person's side --------------------------------------------------------------------

    def cancel(self, job_id: str) -> Job:
        """Queued: cancelled at once. Running: the worker stops at its next progress step."""
        job = self.get(job_id)
        if self._update(job.id, {"status": "queued"}, status="cancelled", stage="cancelled", finished_at=now_utc()):
            return self.get(job.id)
        if self._update(job.id, {"status": "running"}, cancel_requested=True):
            return self.get(job.id)
        job = self.get(job.id)
        raise BadInput(f"job {job.id} is already {job.status}; only queued or running jobs can be cancelled")

    def retry(self, job_id: str) -> Job:
        job = self.get(job_id)
        if not self._update(
            job.id,
            {"status": ("failed", "cancelled")},
            status="queued",
            stage="queued",
            step=0,
            total=0,
            error=None,
            cancel_requested=False,
            worker=None,
            queued_at=now_utc(),
            started_at=None,
            finished_at=None,
            timeline=None,
        ):
            job = self.get(job.id)
            raise BadInput(f"job {job.id} is {job.status}; only failed or cancelled jobs can be retried")
        return self.get(job.id)

    # -- crash recovery ---------------------------------------------------------------------

    def recover(self, *, lease_s: float, max_attempts: int, exclude_worker: str | None = None) -> Recovery:
        """Re-queue running jobs whose worker is gone: dead process on this host, or silent
        for longer than the lease anywhere. Jobs that already crashed a worker `max_attempts`
        times are failed instead, so one poisonous job cannot take the queue down forever."""
        stale_before = now_utc() - timedelta(seconds=lease_s)
        with self.db.read() as session:
            running = list(session.exec(select(Job).where(Job.status == "running")).all())
        requeued, failed, cancelled = [], [], []
        for job in running:
            if job.worker == exclude_worker or not _orphaned(job, stale_before):
                continue
            expect = {"status": "running", "worker": job.worker}
            if job.cancel_requested:  # cancelled while its worker died: do not run it again
                if self._update(job.id, expect, status="cancelled", stage="cancelled", finished_at=now_utc()):
                    cancelled.append(job.id)
            elif job.attempts >= max_attempts:
                if self._update(
                    job.id,
                    expect,
                    status="failed",
                    stage="failed",
                    error=f"the worker stopped {job.attempts} times while running this job (killed or crashed); "
                    "check the worker log (e.g. out of memory), then `songstudio jobs retry`",
                    finished_at=now_utc(),
                ):
                    failed.append(job.id)
            elif self._update(
                job.id, expect, status="queued", stage="queued (worker lost)", step=0, total=0, worker=None, timeline=None
            ):
                requeued.append(job.id)
        return Recovery(requeued=requeued, failed=failed, cancelled=cancelled)

    # -- helpers ----------------------------------------------------------------------------

    def _update(self, job_id: str, expect: dict[str, Any], *, session=None, **values: Any) -> bool:
        """UPDATE job SET values WHERE id AND expect; True when exactly one row changed."""
        stmt = sa.update(Job).where(Job.id == job_id)
        for name, wanted in expect.items():
            column = getattr(Job, name)
            stmt = stmt.where(column.in_(wanted) if isinstance(wanted, tuple) else column == wanted)
        stmt = stmt.values(**values).execution_options(synchronize_session=False)
        if session is not None:
            return session.exec(stmt).rowcount == 1
        with self.db.write() as own:
            return own.exec(stmt).rowcount == 1


def _orphaned(job: Job, stale_before: datetime) -> bool:
    heartbeat = utc(job.heartbeat_at)
    if heartbeat is None or heartbeat < stale_before:
        return True
    host, _, rest = (job.worker or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: only the lease can tell
    return not _pid_alive(int(pid_text))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # not us (our own id is excluded by the caller): an earlier process, pid reused
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) still answers kill(0): look closer.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
