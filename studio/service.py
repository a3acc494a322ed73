"""The studio as the CLI and the UI see it: open the library, submit jobs, follow them.

Submitting checks the spec, stores the job row, then sends a wake-up. If the broker is down
the row is already saved, so the job runs once a worker starts (it re-sends wake-ups).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lyrics.registry import backends
from music.engine import RequestError
from music.registry import engines
from studio import lyrics_jobs, lyrics_model
from studio.adapter_store import AdapterStore, with_adapter
from studio.db import Database
from studio.errors import BadInput, EnvironmentProblem
from studio.jobs import FINISHED, JobStore
from studio.library import Library
from studio.queue import JobQueue
from studio.settings import Settings
from studio.specs import JobSpec, LyricsJobSpec, MusicJobSpec, check_lyrics_spec, check_music_spec, parse_spec
from studio.tables import Job
from studio.train_spec import TrainJobSpec, adapters_dir, check_train_spec


@dataclass
class JobView:
    """A job plus what the UI shows with it."""

    job: Job
    queue_position: int | None

    @property
    def progress(self) -> float:
        return self.job.step / self.job.total if self.job.total else 0.0


class Studio:
    def __init__(self, settings: Settings, db: Database, queue: JobQueue) -> None:
        self.settings = settings
        self.db = db
        self.queue = queue
        self.jobs = JobStore(db)
        self.library = Library(db, settings.library_dir, rank_window=settings.search_rank_window or None)
        self.adapters = AdapterStore(db, adapters_dir(settings))

    @classmethod
    def open(cls, settings: Settings) -> "Studio":
        db = Database.open(settings)
        return cls(settings, db, JobQueue(settings))

    def engine_names(self) -> list[str]:
        engines.register_plugins(self.settings.extra_engines)
        return engines.names()

    def engine_presets(self, engine: str | None = None) -> dict[str, dict[str, Any]]:
        """Named option groups the engine offers (e.g. ace-step-v1's edit strengths)."""
        engines.register_plugins(self.settings.extra_engines)
        try:
            return engines.presets(engine or self.settings.engine)
        except RequestError as exc:
            raise BadInput(str(exc)) from None

    def submit(self, data: dict[str, Any] | JobSpec) -> Job:
        """Check the spec once (the engine's model-free check; nothing over a limit is queued)
        and queue it as checked."""
        spec = parse_spec(data) if isinstance(data, dict) else data
        if isinstance(spec, MusicJobSpec):
            spec = with_adapter(spec, self.adapters)  # `lora` may name a library adapter
            spec = self._check_music(spec)
        elif isinstance(spec, LyricsJobSpec):
            self._check_lyrics(spec)
        elif isinstance(spec, TrainJobSpec):
            check_train_spec(spec, adapters=self.adapters)
        job = self.jobs.insert(spec)
        self.queue.notify()
        return job

    def submit_music(self, *, engine: str | None = None, model: str | None = None, title: str = "",
                     tags: list[str] | None = None, parent_take_id: int | None = None, **request: Any) -> Job:
        return self.submit(
            MusicJobSpec(engine=engine or self.settings.engine, model=model, request=request, title=title,
                         tags=tags or [], parent_take_id=parent_take_id)
        )

    def submit_lyrics(self, *, theme: str = "", backend: str | None = None, **fields: Any) -> Job:
        """A lyrics job: `action` "draft" (default), "rewrite", "continue" or "titles" (see LyricsJobSpec)."""
        return self.submit(parse_spec({"kind": "lyrics", "backend": backend or self.settings.lyrics_backend,
                                       "theme": theme, **fields}))

    def retry(self, job_id: str) -> Job:
        """Queue a failed or cancelled job again, with its stored spec."""
        job = self.jobs.retry(job_id)
        self.queue.notify()
        return job

    def cancel(self, job_id: str) -> Job:
        return self.jobs.cancel(job_id)

    def view(self, job_id: str) -> JobView:
        job = self.jobs.get(job_id)
        return JobView(job=job, queue_position=self.jobs.queue_position(job))

    def wait(self, job_id: str, *, timeout: float | None = None, poll_s: float = 0.25, on_change=None) -> Job:
        """Block until the job is done, failed or cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = None
        while True:
            view = self.view(job_id)
            state = (view.job.status, view.job.stage, view.job.step, view.queue_position)
            if on_change is not None and state != seen:
                on_change(view)
            seen = state
            if view.job.status in FINISHED:
                return view.job
            if deadline is not None and time.monotonic() > deadline:
                raise EnvironmentProblem(
                    f"job {job_id} is still {view.job.status} after {timeout:g} s; is a worker running? "
                    "(`songstudio worker`); the job stays queued"
                )
            time.sleep(poll_s)

    def output_paths(self, job: Job) -> list[Path]:
        return [self.settings.library_dir / take.master_file for take in self.library.takes_of_job(job.id)]

    def _check_music(self, spec: MusicJobSpec) -> MusicJobSpec:
        engines.register_plugins(self.settings.extra_engines)
        checked = check_music_spec(spec, settings=self.settings)
        if spec.parent_take_id is not None:
            self.library.get(spec.parent_take_id)
        return checked

    def _check_lyrics(self, spec: LyricsJobSpec) -> None:
        if spec.backend not in backends.names():
            raise BadInput(f"unknown lyrics backend {spec.backend!r}; known: {', '.join(backends.names())}")
        model = lyrics_jobs.model_for(self.settings, spec)  # Song-Stream, else the starter model
        lyrics_model.require(model)  # no lyrics model: say so now
        check_lyrics_spec(spec, backend_options=model.options)
