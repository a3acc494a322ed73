"""The UI's one door to the rest of the studio: the library, the job queue, files and provenance.

Pages call a `Studio`; it talks to the foundation's database, job store and queue. Pages never
run a model: submitting only inserts a job row and wakes a worker.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import soundfile as sf

from music.engine import MusicRequest
from studio.errors import BadInput, NotFound
from studio.jobs import ACTIVE
from studio.mint_state import mint_state
from studio.service import Studio as Service
from studio.settings import Settings
from studio.tables import Take, utc
from studio.ui.c2pa_state import c2pa_state
from studio.ui.models_info import real_weights_present
from studio.ui.provenance_view import provenance_facts
from studio.ui.waveform import Envelope

__all__ = ["ACTIVE", "SORTS", "JobView", "LibraryQuery", "Studio", "TakeView"]

# Page labels -> the library's sort names ("relevance" only applies to a text search).
SORTS = {
    "Newest first": "newest",
    "Oldest first": "oldest",
    "Best match": "relevance",
    "Best rated": "rating",
    "Longest": "duration",
    "Title A-Z": "title",
}
FILE_KINDS = ("master", "mp3", "preview", "waveform", "params")


@dataclass(frozen=True, kw_only=True)
class JobView:
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

    @classmethod
    def of(cls, row: Take) -> "TakeView":
        return cls(
            id=row.id, job_id=row.job_id, title=row.title, prompt=row.prompt, lyrics=row.lyrics, task=row.task,
            engine=row.engine, model_id=row.model_id, seed=row.seed, duration=row.duration,
            sample_rate=row.sample_rate, folder=row.folder,
            files={kind: getattr(row, f"{kind}_file") for kind in FILE_KINDS}, audio_sha256=row.audio_sha256,
            parent_take_id=row.parent_take_id, favourite=row.favourite, rating=row.rating,
            trashed=row.trashed_at is not None, created_at=utc(row.created_at), parameters_json=row.parameters,
        )


@dataclass(frozen=True, kw_only=True)
class LibraryQuery:
    text: str = ""
    engine: str | None = None
    favourites_only: bool = False
    trashed: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    sort: str = "Newest first"


class Studio:
    """The foundation's service plus what pages need on top: views, files, downloads."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings: Settings = service.settings
        self.db = service.db
        self.jobs = service.jobs
        self.library = service.library

    @classmethod
    def open(cls, settings: Settings) -> "Studio":
        return cls(Service.open(settings))

    # -- engines ---------------------------------------------------------------------------

    def engine_names(self) -> list[str]:
        return self.service.engine_names()

    def default_engine(self) -> str:
        return self.settings.engine

    def real_weights_present(self) -> bool:
        return real_weights_present(self.settings)

    # -- jobs ------------------------------------------------------------------------------

    def submit_music(self, request: MusicRequest, *, engine: str, title: str = "",
                     parent_take_id: int | None = None) -> str:
        job = self.service.submit_music(engine=engine, title=title, parent_take_id=parent_take_id,
                                        **request.to_dict())
        return job.id

    def submit_lyrics(self, *, theme: str, genre: str, mood: str, language: str, structure: list[str],
                      length: str | int = "medium", **draft_options: Any) -> str:
        """`draft_options`: bpm, rhyme, candidates (see LyricsJobSpec)."""
        if not theme.strip():
            raise BadInput("write a theme first: what is the song about?")
        return self.service.submit_lyrics(theme=theme.strip(), genre=genre, mood=mood, language=language,
                                          structure=structure, length=length, **draft_options).id

    def submit_rewrite(self, *, lyrics, section: int, instruction: str, language: str) -> str:
        """Queue a rewrite of one section (0-based index) of `lyrics` following `instruction`."""
        return self.service.submit_lyrics(action="rewrite", lyrics=lyrics.to_dict(), section=section,
                                          instruction=instruction.strip(), language=language).id

    def job(self, job_id: str) -> JobView | None:
        try:
            job = self.jobs.get(job_id)
        except (NotFound, BadInput):
            return None
        return JobView(
            id=job.id, kind=job.kind, status=job.status, stage=job.stage, step=job.step, total=job.total,
            position=self.jobs.queue_position(job), error=job.error, cancel_requested=job.cancel_requested,
            result=json.loads(job.result) if job.result else {}, created_at=utc(job.created_at),
            partial=job.partial,
        )

    def cancel(self, job_id: str) -> None:
        """Cancel; a job that ended meanwhile is left as it is (the panel shows its end state)."""
        try:
            self.jobs.cancel(job_id)
        except BadInput:
            pass

    # -- takes -----------------------------------------------------------------------------

    def take(self, take_id: int) -> TakeView | None:
        try:
            return TakeView.of(self.library.get(take_id))
        except NotFound:
            return None

    def takes_of_job(self, job_id: str) -> list[TakeView]:
        return [TakeView.of(t) for t in self.library.takes_of_job(job_id)]

    def children(self, take_id: int) -> list[TakeView]:
        return [TakeView.of(t) for t in self.library.children(take_id)]

    def children_counts(self, take_ids: list[int]) -> dict[int, int]:
        return self.library.children_counts(take_ids)

    def search_takes(self, query: LibraryQuery, *, offset: int = 0,
                     limit: int = 20) -> tuple[list[TakeView], int, bool, int | None]:
        """One page of matching takes, the number of all matches, whether that number is exact
        (the library stops counting at its cap: counting every row of a huge library is a full scan),
        and the rank window when best match ranked only the newest that many matches."""
        if query.sort not in SORTS:
            raise BadInput(f"unknown sort {query.sort!r}; choose one of {', '.join(SORTS)}")
        sort = SORTS[query.sort]
        if sort == "relevance" and not query.text:
            sort = "newest"  # nothing to rank by without search words
        page = self.library.search(
            query.text or None, engine=query.engine, favourite=True if query.favourites_only else None,
            created_from=query.created_from, created_to=query.created_to, min_duration=query.min_duration,
            max_duration=query.max_duration, trash="only" if query.trashed else "exclude", sort=sort,
            limit=limit, offset=offset)
        return [TakeView.of(t) for t in page.items], page.total, page.total_exact, page.rank_window

    def set_favourite(self, take_id: int, favourite: bool) -> None:
        self.library.update(take_id, favourite=favourite)

    def set_rating(self, take_id: int, rating: int) -> None:
        self.library.update(take_id, rating=rating)

    def trash(self, take_id: int) -> None:
        self.library.trash(take_id)

    def restore(self, take_id: int) -> None:
        self.library.restore(take_id)

    # -- files -----------------------------------------------------------------------------

    def file_path(self, take: TakeView, kind: str) -> Path:
        if kind not in FILE_KINDS:
            raise ValueError(f"unknown file kind {kind!r}")
        return self.settings.library_dir / take.files[kind]

    def parameters(self, take: TakeView) -> dict[str, Any]:
        """Everything stored about how the take was made (the worker's parameters JSON)."""
        return json.loads(take.parameters_json or "{}")

    def request_of(self, take: TakeView) -> dict[str, Any]:
        """The music request that made the take, as submitted."""
        return dict(self.parameters(take).get("request") or {})

    def envelope(self, take: TakeView) -> Envelope | None:
        from studio.ui.envelope_file import read_envelope  # noqa: PLC0415  (heavy: imports altair)

        path = self.file_path(take, "waveform")
        return read_envelope(path, duration=take.duration) if path.is_file() else None

    def manifest_path(self, take: TakeView) -> Path | None:
        """The master's C2PA sidecar manifest, when it has one (FLAC masters sealed by this studio)."""
        sidecar = self.file_path(take, "master").with_suffix(".c2pa")
        return sidecar if sidecar.is_file() else None

    def download_stem(self, take: TakeView) -> str:
        """A file name people recognise: the title (or 'take') plus the id."""
        slug = re.sub(r"[^A-Za-z0-9]+", "-", take.title).strip("-").lower()[:40]
        return f"{slug or 'take'}-{take.id}"

    def wav_bytes(self, take: TakeView) -> bytes:
        """24-bit WAV made from the master on request (WAV is not stored: it is the FLAC, uncompressed)."""

        audio, rate = sf.read(self.file_path(take, "master"), dtype="float32", always_2d=True)
        buffer = io.BytesIO()
        sf.write(buffer, audio, rate, format="WAV", subtype="PCM_24")
        return buffer.getvalue()

    def export_zip(self, take_ids: list[int]) -> bytes:
        """Master (with its C2PA sidecar manifest), MP3 and parameters of each take, in one zip made in memory."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for take_id in take_ids:
                take = self.take(take_id)
                if take is None:
                    continue
                stem = self.download_stem(take)
                for kind, ext in (("master", "flac"), ("mp3", "mp3"), ("params", "json")):
                    path = self.file_path(take, kind)
                    if path.is_file():
                        archive.write(path, f"{stem}/{stem}.{ext}")
                manifest = self.manifest_path(take)
                if manifest is not None:  # same name as the FLAC: where C2PA readers look for it
                    archive.write(manifest, f"{stem}/{stem}.c2pa")
        return buffer.getvalue()

    def store_upload(self, name: str, data: bytes) -> Path:
        """Keep an uploaded reference file under the data home (written atomically), return its path."""

        folder = self.settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = Path(name).suffix.lower() or ".bin"
        target = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        return target

    # -- provenance ------------------------------------------------------------------------

    def provenance(self, take: TakeView) -> dict[str, str]:
        row = self.library.get(take.id)
        return provenance_facts(audio_sha256=take.audio_sha256, mint=mint_state(self.db, take.id),
                                c2pa=c2pa_state(self.file_path(take, "master")), recipe_sha256=row.recipe_sha256)
