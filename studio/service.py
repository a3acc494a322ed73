"""The studio service: the one door the CLI and the pages use to the library, the job queue,
the songs and the take files. Pages keep only view code; every query happens here or below.

Submitting checks the spec, stores the job row, then sends a wake-up. If the broker is down
the row is already saved, so the job runs once a worker starts (it re-sends wake-ups).
Pages never run a model: submitting only inserts a job row and wakes a worker.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from lyrics.registry import backends
from music.engine import MusicRequest, RequestError
from music.registry import engines
from studio import downloads, lyrics_jobs, lyrics_model
from studio.adapter_store import AdapterStore, with_adapter
from studio.db import Database
from studio.errors import BadInput, EnvironmentProblem, NotFound
from studio.jobs import FINISHED, JobStore
from studio.library import Library
from studio.mint_state import MintState, mint_state
from studio.queue import JobQueue
from studio.records import FILE_KINDS, JobView, LibraryQuery, TakeView
from studio.settings import Settings
from studio.songs import SongBook, draft_from_lyrics
from studio.specs import JobSpec, LyricsJobSpec, MusicJobSpec, check_lyrics_spec, check_music_spec, parse_spec
from studio.tables import Job
from studio.train_memory import check_at_submit as check_train_memory
from studio.train_spec import TrainJobSpec, adapters_dir, check_train_spec


class Studio:
    def __init__(self, settings: Settings, db: Database, queue: JobQueue) -> None:
        self.settings = settings
        self.db = db
        self.queue = queue
        self.jobs = JobStore(db)
        self.library = Library(db, settings.library_dir, rank_window=settings.search_rank_window or None)
        self.adapters = AdapterStore(db, adapters_dir(settings))
        self.songs = SongBook(db)

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

    def default_engine(self) -> str:
        return self.settings.engine

    def submit(self, data: dict[str, Any] | JobSpec) -> Job:
        """Check the spec once (the engine's model-free check; nothing over a limit is queued)
        and queue it as checked."""
        spec = parse_spec(data) if isinstance(data, dict) else data
        if isinstance(spec, MusicJobSpec):
            spec = self._check_music(spec)
        elif isinstance(spec, LyricsJobSpec):
            self._check_lyrics(spec)
        elif isinstance(spec, TrainJobSpec):
            check_train_spec(spec, adapters=self.adapters)
            check_train_memory(self.settings, spec)
        return self._queue(spec)

    def _queue(self, spec: JobSpec) -> Job:
        """Store a checked spec as a queued job and wake a worker."""
        job = self.jobs.insert(spec)
        self.queue.notify()
        return job

    def submit_music(self, request: MusicRequest | None = None, *, engine: str | None = None,
                     model: str | None = None, title: str = "", tags: list[str] | None = None,
                     parent_take_id: int | None = None, song_id: int | None = None, **fields: Any) -> Job:
        """A music job from a `MusicRequest` (the pages) or its fields as keywords (the CLI).

        Its takes go into `song_id`; without one, into the parent take's song, else into a new song
        whose draft is the request's lyrics. A song without a title is named `title`, or after the
        prompt, so that its takes have a name."""
        if request is not None:
            if fields:
                raise TypeError("give a MusicRequest or request fields, not both")
            fields = request.to_dict()
        spec = MusicJobSpec(engine=engine or self.settings.engine, model=model, request=fields, title=title,
                            tags=tags or [], parent_take_id=parent_take_id, song_id=song_id)
        if spec.song_id is None and spec.parent_take_id is not None:
            spec.song_id = self.library.get(spec.parent_take_id).song_id
        named = title.strip() or str(fields.get("prompt") or "").strip()[:60] or "Untitled"
        if spec.song_id is None:
            spec = self._check_music(spec)  # a request that cannot be queued leaves no empty song behind
            lyrics = str(fields.get("lyrics") or "")
            spec.song_id = self.songs.create(title=named, draft=draft_from_lyrics(lyrics)).id
            return self._queue(spec)
        song = self.songs.get(spec.song_id)  # a song that is gone is named before anything is checked
        job = self.submit(spec)
        if not song.title.strip():
            self.songs.save(song.id, title=named)
        return job

    def submit_lyrics(self, *, theme: str = "", backend: str | None = None, **fields: Any) -> Job:
        """A lyrics job: `action` "draft" (default), "rewrite", "continue" or "titles" (see LyricsJobSpec)."""
        return self.submit(parse_spec({"kind": "lyrics", "backend": backend or self.settings.lyrics_backend,
                                       "theme": theme.strip(), **fields}))

    def submit_rewrite(self, *, lyrics, section: int, instruction: str, language: str) -> Job:
        """Queue a rewrite of one section (0-based index) of `lyrics` (a `lyrics.format.Lyrics`)."""
        return self.submit_lyrics(action="rewrite", lyrics=lyrics.to_dict(), section=section,
                                  instruction=instruction.strip(), language=language)

    def retry(self, job_id: str) -> Job:
        """Queue a failed or cancelled job again, with its stored spec."""
        job = self.jobs.retry(job_id)
        self.queue.notify()
        return job

    def cancel(self, job_id: str) -> JobView:
        """Queued: cancelled at once; running: stops at its next step. A job that already ended
        is a BadInput naming its state."""
        return self._view_of(self.jobs.cancel(job_id))

    def view(self, job_id: str) -> JobView:
        """The job (an id or a unique id prefix); NotFound when there is none."""
        return self._view_of(self.jobs.get(job_id))

    def job(self, job_id: str) -> JobView | None:
        """The job, or None when this library has no such job (a stale link)."""
        try:
            return self.view(job_id)
        except (NotFound, BadInput):
            return None

    def _view_of(self, job: Job) -> JobView:
        return JobView.of(job, self.jobs.queue_position(job))

    def wait(self, job_id: str, *, timeout: float | None = None, poll_s: float = 0.25,
             on_change: Callable[[JobView], None] | None = None) -> JobView:
        """Block until the job is done, failed or cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = None
        while True:
            view = self.view(job_id)
            state = (view.status, view.stage, view.step, view.position)
            if on_change is not None and state != seen:
                on_change(view)
            seen = state
            if view.status in FINISHED:
                return view
            if deadline is not None and time.monotonic() > deadline:
                raise EnvironmentProblem(
                    f"job {job_id} is still {view.status} after {timeout:g} s; is a worker running? "
                    "(`songstudio worker`); the job stays queued"
                )
            time.sleep(poll_s)

    def song_of_job(self, job_id: str) -> int | None:
        """The song a music job's takes go into."""
        return json.loads(self.jobs.get(job_id).spec).get("song_id")

    def output_paths(self, job_id: str) -> list[Path]:
        return [self.settings.library_dir / take.master_file for take in self.library.takes_of_job(job_id)]

    # -- takes -----------------------------------------------------------------------------

    def take(self, take_id: int) -> TakeView | None:
        """The take, or None when there is no such take (a stale link)."""
        try:
            return TakeView.of(self.library.get(take_id))
        except NotFound:
            return None

    def takes_of_job(self, job_id: str) -> list[TakeView]:
        return [TakeView.of(t) for t in self.library.takes_of_job(job_id)]

    def children(self, take_id: int) -> list[TakeView]:
        return [TakeView.of(t) for t in self.library.children(take_id)]

    def search_takes(self, query: LibraryQuery, *, offset: int = 0,
                     limit: int = 20) -> tuple[list[TakeView], int, bool, int | None]:
        """One page of matching takes, the number of all matches, whether that number is exact
        (the library stops counting at its cap: counting every row of a huge library is a full scan),
        and the rank window when best match ranked only the newest that many matches."""
        sort = "newest" if query.sort == "relevance" and not query.text else query.sort
        page = self.library.search(
            query.text or None, engine=query.engine, favourite=True if query.favourites_only else None,
            created_from=query.created_from, created_to=query.created_to, min_duration=query.min_duration,
            max_duration=query.max_duration, trash="only" if query.trashed else "exclude", sort=sort,
            limit=limit, offset=offset)
        return [TakeView.of(t) for t in page.items], page.total, page.total_exact, page.rank_window

    def mint_state(self, take_id: int) -> MintState:
        """What the library knows about the take's mint (no chain, no keys)."""
        return mint_state(self.db, take_id)

    # -- files -----------------------------------------------------------------------------

    def file_path(self, take: TakeView, kind: str) -> Path:
        if kind not in FILE_KINDS:
            raise ValueError(f"unknown file kind {kind!r}")
        return self.settings.library_dir / take.files[kind]

    def manifest_path(self, take: TakeView) -> Path | None:
        """The master's C2PA sidecar manifest, when it has one (FLAC masters sealed by this studio)."""
        sidecar = self.file_path(take, "master").with_suffix(".c2pa")
        return sidecar if sidecar.is_file() else None

    def download_stem(self, take: TakeView) -> str:
        return downloads.download_stem(take.title, take.id)

    def wav_bytes(self, take: TakeView) -> bytes:
        return downloads.wav_bytes(self.file_path(take, "master"))

    def export_zip(self, take_ids: list[int]) -> bytes:
        """Master (with its C2PA sidecar manifest), MP3 and parameters of each take, in one zip made in memory."""
        entries = []
        for take in filter(None, map(self.take, take_ids)):
            stem = self.download_stem(take)
            entries += [(self.file_path(take, kind), f"{stem}/{stem}.{ext}")
                        for kind, ext in (("master", "flac"), ("mp3", "mp3"), ("params", "json"))]
            manifest = self.manifest_path(take)
            if manifest is not None:  # same name as the FLAC: where C2PA readers look for it
                entries.append((manifest, f"{stem}/{stem}.c2pa"))
        return downloads.zip_files(entries)

    def store_upload(self, name: str, data: bytes) -> Path:
        """Keep an uploaded reference file under the data home; returns its path."""
        return downloads.store_upload(self.settings.home / "uploads", name, data)

    def _check_music(self, spec: MusicJobSpec) -> MusicJobSpec:
        engines.register_plugins(self.settings.extra_engines)
        spec = with_adapter(spec, self.adapters)  # `lora` may name a library adapter
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
