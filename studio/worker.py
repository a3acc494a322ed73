"""The worker process: owns the models, runs one job at a time on its device.

Start-up: register plug-in engines, re-queue jobs whose worker died, make sure every queued
job has a wake-up waiting, then run Huey's consumer (one worker thread). A maintenance thread
sends heartbeats for the running job (model loading can take minutes without a progress step)
and, every half lease, re-queues jobs of workers that went silent on other machines.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from lyrics.errors import LyricsCancelled, LyricsRequestError, UnrepairableOutput
from lyrics.writer import LyricsWriter
from music.engine import Cancelled, RequestError
from music.registry import engines
from studio import lyrics_jobs
from studio.db import Database
from studio.device_memory import auto_device
from studio.errors import BadInput, EnvironmentProblem, StudioError
from studio.job_timeline import Timeline
from studio.jobs import JobStore, LostClaim, new_worker_id
from studio.queue import JobQueue
from studio.recipe import recipe_context
from studio.sealing import MasterSealer
from studio.settings import Settings
from studio.specs import LyricsJobSpec, MusicJobSpec, check_with_engine, parse_spec
from studio.tables import Job
from studio.take_store import store_result
from studio.train_spec import TrainJobSpec
from studio.training_jobs import run_train_job
from studio.worker_models import WorkerModels

log = logging.getLogger("songstudio.worker")

PROGRESS_MIN_INTERVAL_S = 0.1  # progress writes closer together than this are merged
PARTIAL_INTERVAL_S = 0.5  # streamed lyrics text is copied into the job row at most this often


def resolve_device(device: str) -> str:
    """`auto` picks cuda, mps or cpu; any other name must be a device this machine has, checked
    when the worker starts rather than by every job failing with torch's message."""
    if device == "cpu":
        return device  # plain "cpu" never imports torch
    if device == "auto":
        return auto_device()
    import torch

    usage = "use auto, cpu, cuda, cuda:N or mps (--device or SONGSTUDIO_DEVICE)"
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise BadInput(f"unknown device {device!r}; {usage}") from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise EnvironmentProblem(f"device {device!r}: torch {torch.__version__} sees no CUDA GPU here; "
                                     "use --device cpu or auto")
        if parsed.index is not None and parsed.index >= count:
            raise EnvironmentProblem(f"device {device!r}: only {count} CUDA GPU(s) here (cuda:0 to cuda:{count - 1})")
    elif parsed.type == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise EnvironmentProblem(f"device {device!r}: Apple mps is not available here; use --device cpu or auto")
    elif parsed.type != "cpu":
        raise BadInput(f"device {device!r} is not supported; {usage}")
    return device


class Worker:
    def __init__(self, *, settings: Settings, db: Database, queue: JobQueue, device: str | None = None) -> None:
        self.settings = settings
        self.sealer = MasterSealer(settings) if settings.seal_masters else None
        self.db = db
        self.queue = queue
        self.jobs = JobStore(db)
        self.id = new_worker_id()
        self.device = resolve_device(device or settings.device)
        self.models = WorkerModels(settings, device=self.device)  # warm between jobs while memory allows
        self._current: str | None = None
        self._stop = threading.Event()

    # -- lifecycle --------------------------------------------------------------------------

    def prepare(self) -> None:
        engines.register_plugins(self.settings.extra_engines)
        self._recover()

    def run_forever(self) -> None:
        self.prepare()
        if self.settings.preload_models:
            self.models.preload()
        self.queue.handler = self.run_next
        consumer = self.queue.consumer()
        maintenance = threading.Thread(target=self._maintain, name="songstudio-maintenance", daemon=True)
        maintenance.start()
        log.info("worker %s on %s, queue %s, library %s", self.id, self.device, self.queue.display, self.db.display_url)
        try:
            consumer.run()
        finally:
            self._stop.set()
            current = self._current
            if current is not None and self.jobs.release(current, worker=self.id):
                log.warning("job %s handed back to the queue at shutdown", current)
            self.models.close()

    def _recover(self) -> None:
        recovery = self.jobs.recover(
            lease_s=self.settings.job_lease_s, max_attempts=self.settings.max_attempts, exclude_worker=self.id
        )
        for job_id in recovery.requeued:
            log.warning("job %s was running on a worker that is gone: re-queued", job_id)
        for job_id in recovery.cancelled:
            log.warning("job %s was cancelled while its worker died: marked cancelled", job_id)
        for job_id in recovery.failed:
            log.error("job %s failed: its worker died %d times", job_id, self.settings.max_attempts)
        self.queue.top_up(self.jobs.count("queued"))

    def _maintain(self) -> None:
        tick = max(0.2, min(2.0, self.settings.job_lease_s / 4))
        last_recover = time.monotonic()
        while not self._stop.wait(tick):
            try:
                current = self._current
                if current is not None:
                    self.jobs.heartbeat(current, worker=self.id)
                if time.monotonic() - last_recover >= self.settings.job_lease_s / 2:
                    last_recover = time.monotonic()
                    self._recover()
            except Exception:  # keep the thread alive through a DB or broker outage
                log.exception("maintenance step failed; retrying in %.1f s", tick)

    # -- running jobs -----------------------------------------------------------------------

    def run_next(self) -> Job | None:
        """Claim the oldest queued job and run it to an end state. None when nothing waits."""
        job = self.jobs.claim_next(worker=self.id, device=self.device)
        if job is None:
            return None
        self._current = job.id
        try:
            self._execute(job)
        finally:
            self._current = None
        return self.jobs.get(job.id)

    def _execute(self, job: Job) -> None:
        log.info("job %s (%s) attempt %d started", job.id, job.kind, job.attempts)
        try:
            spec = parse_spec(json.loads(job.spec))
            if isinstance(spec, MusicJobSpec):
                self._run_music(job, spec)
            elif isinstance(spec, TrainJobSpec):
                run_train_job(self, job, spec)
            else:
                self._run_lyrics(job, spec)
            log.info("job %s done", job.id)
        except Cancelled:
            self.jobs.mark_cancelled(job.id, worker=self.id)
            log.info("job %s cancelled", job.id)
        except LostClaim:
            log.warning("job %s was taken from this worker (stale heartbeat); its output is discarded", job.id)
        except (StudioError, RequestError) as exc:
            self._fail(job, str(exc))
        except ImportError as exc:
            self._fail(job, f"a library this job needs is missing: {exc}; install the matching extra")
        except Exception as exc:
            log.exception("job %s failed", job.id)
            self._fail(job, f"{type(exc).__name__}: {exc}")

    def _fail(self, job: Job, message: str) -> None:
        log.error("job %s failed: %s", job.id, message)
        self.jobs.fail(job.id, worker=self.id, error=message)

    def _progress(self, job: Job):
        last = {"stage": None, "at": 0.0}
        timeline = Timeline(started=time.time())  # wall clock: pages on other machines compare with it

        def report(stage: str, step: int, total: int) -> None:
            now = time.monotonic()
            timeline.record(stage, step, total, now=time.time())
            if stage == last["stage"] and now - last["at"] < PROGRESS_MIN_INTERVAL_S and step < total:
                return
            last.update(stage=stage, at=now)
            if self.jobs.report(job.id, worker=self.id, stage=stage, step=step, total=total,
                                timeline=timeline.to_json()):
                raise Cancelled(f"job {job.id} cancelled")

        return report

    def _run_music(self, job: Job, spec: MusicJobSpec) -> None:
        progress = self._progress(job)
        checked = spec.checked_request()
        if checked is None:  # queued before submit stored checked requests: check it once, here
            checked = check_with_engine(spec, spec.music_request(), settings=self.settings)
        engine = self.models.music_engine(spec.engine, spec.model, checked, on_load=lambda: progress("load", 0, 1))
        result = engine.generate(checked, progress)
        store_result(
            db=self.db,
            jobs=self.jobs,
            media=self.settings.library_dir,
            job=job,
            spec=spec,
            result=result,
            worker=self.id,
            progress=progress,
            sealer=self.sealer,
            recipe=recipe_context(self.settings, spec, engine, self.device),
        )

    def _run_lyrics(self, job: Job, spec: LyricsJobSpec) -> None:
        progress = self._progress(job)
        progress("lyrics", 0, 1)
        model = lyrics_jobs.model_for(self.settings, spec)  # Song-Stream, else the starter model
        options = model.options
        backend = self.models.lyrics_backend(spec.backend, options)  # warm: kept for the next job
        try:
            stream = _lyrics_stream(LyricsWriter(backend), spec)
            self._stream_text(job, stream)
            value = stream.result()
        except LyricsCancelled:
            raise Cancelled(f"job {job.id} cancelled") from None
        except UnrepairableOutput as exc:
            raise RequestError(f"{exc}; the model wrote:\n{exc.raw}") from None
        except LyricsRequestError as exc:
            raise RequestError(str(exc)) from None
        except Cancelled:  # the stream was told to stop: the backend stays usable
            raise
        except BaseException:  # the backend failed mid-job (or was interrupted): do not reuse it
            self.models.drop_lyrics_backend(spec.backend, options)
            raise
        progress("lyrics", 1, 1)
        with self.db.write() as session:
            result = _lyrics_result(spec, value) | lyrics_jobs.result_extras(stream, model)
            if not self.jobs.finish(session, job.id, worker=self.id, result=result):
                raise LostClaim(job.id)

    def _stream_text(self, job: Job, stream) -> None:
        """Copy the growing text into the job row (at most every PARTIAL_INTERVAL_S, so a fast
        model does not hammer the database); a cancel request stops the model."""
        last = 0.0
        for _ in stream:
            now = time.monotonic()
            if now - last < PARTIAL_INTERVAL_S:
                continue
            last = now
            if self.jobs.report(job.id, worker=self.id, stage="lyrics", step=0, total=1, partial=stream.raw):
                stream.cancel()
                raise Cancelled(f"job {job.id} cancelled")


def _lyrics_stream(writer, spec: LyricsJobSpec):
    if spec.action == "draft":
        return writer.draft_stream(theme=spec.theme, genre=spec.genre, mood=spec.mood, language=spec.language,
                                   structure=spec.structure, length=spec.length, seed=spec.seed,
                                   **lyrics_jobs.draft_options(spec))
    lyrics = spec.existing_lyrics()
    if spec.action == "rewrite":
        return writer.rewrite_stream(lyrics, spec.section, spec.instruction, language=spec.language,
                                     seed=spec.seed)
    if spec.action == "continue":
        return writer.continue_stream(lyrics, sections=spec.sections, language=spec.language,
                                      seed=spec.seed)
    return writer.titles_stream(lyrics, count=spec.count, language=spec.language, seed=spec.seed)


def _lyrics_result(spec: LyricsJobSpec, value) -> dict[str, Any]:
    """The job's result JSON: {"title", "lyrics"} (ACE-Step v1 text); a rewrite also names the
    section it replaced and its new lines, so a page can swap just that section; titles: a list."""
    if spec.action == "titles":
        return {"titles": list(value)}
    result: dict[str, Any] = {"title": value.title, "lyrics": value.render()}
    if spec.action == "rewrite":
        index = spec.existing_lyrics().find(spec.section)
        section = value.sections[index]
        result["section"] = {"index": index, "tag": section.tag, "lines": list(section.lines)}
    return result
