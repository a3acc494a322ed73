"""Putting a finished generation into the library, all or nothing.

1. every file of every take is written into `<media>/.staging/<job>/<i>/` (each file atomic);
2. the whole staging folder is renamed to `<media>/takes/<job>/` (one atomic rename);
3. one transaction inserts the take rows and marks the job done.
A crash before 2 leaves only staging (cleared by the retry); a crash between 2 and 3 leaves a
folder no row points at, which the retry replaces: the job is not done, so nothing references
it. Once 3 has committed the files are read-only and never rewritten.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlmodel import select

from music.engine import MusicResult
from studio.audio_files import TAKE_FILES, write_take_folder
from studio.db import Database
from studio.jobs import JobStore, LostClaim
from studio.recipe import RecipeContext, build_recipe, recipe_bytes, recipe_hash
from studio.specs import MusicJobSpec
from studio.tables import Job, Mint, Take
from studio.take_names import song_take_names

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def staging_dir(media: Path, job_id: str) -> Path:
    return media / ".staging" / job_id


def job_folder(media: Path, job_id: str) -> Path:
    return media / "takes" / job_id


def store_result(
    *,
    db: Database,
    jobs: JobStore,
    media: Path,
    job: Job,
    spec: MusicJobSpec,
    result: MusicResult,
    worker: str,
    progress: Callable[[str, int, int], None],
    sealer: Callable[..., None] | None = None,
    recipe: RecipeContext | None = None,
) -> list[Take]:
    staging = staging_dir(media, job.id)
    shutil.rmtree(staging, ignore_errors=True)  # leftovers of an earlier, interrupted attempt
    request = spec.request
    model = model_label(result, recipe)
    parent = _parent(db, spec.parent_take_id)
    rows: list[Take] = []
    names = _names(db, spec, len(result.takes))
    try:
        for index, take in enumerate(result.takes):
            progress("encode", index, len(result.takes))
            parameters = _parameters(spec=spec, result=result, seed=take.seed, index=index, job_id=job.id)
            tags = {
                "title": names[index][0],
                "lyrics": request.get("lyrics", ""),
                "prompt": request.get("prompt", ""),
                "model": model,
                "seed": str(take.seed),
            }
            folder = staging / str(index)
            recipe_json = None
            if recipe is not None:
                recipe_json = recipe_bytes(build_recipe(context=recipe, spec=spec, result=result, take_index=index,
                                                        parent=parent))
            seal = None
            if sealer is not None:
                def seal(master: Path, seed: int = take.seed, title: str = tags["title"],
                         recipe_json: bytes | None = recipe_json) -> None:
                    sealer(master, generation_id=f"{job.id}/{index}", engine=result.engine, model=model,
                           seed=seed, title=title, recipe_json=recipe_json)
            sha = write_take_folder(
                folder, audio=take.audio, sample_rate=result.sample_rate, tags=tags, parameters=parameters,
                seal=seal,
            )
            row = _row(job=job, spec=spec, result=result, take=take, index=index, title=tags["title"], sha=sha,
                       parameters=parameters, made_by=names[index][1])
            if recipe_json is not None:
                row.recipe, row.recipe_sha256 = recipe_json.decode(), recipe_hash(recipe_json)
            rows.append(row)
        progress("encode", len(result.takes), len(result.takes))
        _make_read_only(staging)  # before the rename: a stored master is never writable
        final = job_folder(media, job.id)
        _move_into_library(db=db, staging=staging, final=final, job_id=job.id)
        try:
            with db.write() as session:
                if not jobs.finish(session, job.id, worker=worker, result={"takes": len(rows)}):
                    raise LostClaim(job.id)
                session.add_all(rows)
                session.flush()
                ids = [row.id for row in rows]
                session.exec(
                    sa.update(Job).where(Job.id == job.id).values(result=json.dumps({"take_ids": ids}))
                )
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)  # no row points at it: not part of the library
            raise
        return rows
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def model_label(result: MusicResult, recipe: RecipeContext | None) -> str:
    """The model as tags and manifests name it: engine/id[@revision], never a local folder path."""
    model_id = recipe.model["id"] if recipe is not None else Path(result.model_id).name or result.model_id
    return f"{result.engine}/{model_id}" + (f"@{result.revision}" if result.revision else "")


def _parent(db: Database, parent_take_id: int | None) -> dict[str, Any] | None:
    """The parent take of an edit, with its recipe hash and its token when it was minted."""
    if parent_take_id is None:
        return None
    with db.read() as session:
        take = session.get(Take, parent_take_id)
        token = session.exec(select(Mint.token_id).where(Mint.take_id == parent_take_id, Mint.status == "minted")
                             .limit(1)).first()
    return {"take_id": parent_take_id, "audio_sha256": take.audio_sha256 if take else None,
            "recipe_sha256": take.recipe_sha256 if take else None, "token_id": token}


def _move_into_library(*, db: Database, staging: Path, final: Path, job_id: str) -> None:
    if final.exists():
        with db.read() as session:
            stored = session.exec(select(Take.id).where(Take.job_id == job_id).limit(1)).first()
        if stored is not None:
            raise RuntimeError(f"job {job_id} already has takes in the library; refusing to overwrite them")
        shutil.rmtree(final)  # a crash between rename and commit left it; nothing references it
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staging, final)


def _make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(READ_ONLY)


def _names(db: Database, spec: MusicJobSpec, count: int) -> list[tuple[str, str]]:
    """(title, made_by) per take: named after the song and what made it, or (no song) as before."""
    if spec.song_id is not None:
        with db.read() as session:
            return song_take_names(session, spec.song_id, spec.request, count)
    return [(_title(spec, index, count), "") for index in range(count)]


def _title(spec: MusicJobSpec, index: int, count: int) -> str:
    base = spec.title.strip() or (spec.request.get("prompt", "").strip()[:60] or "Untitled")
    return base if count == 1 else f"{base} ({index + 1})"


def _parameters(*, spec: MusicJobSpec, result: MusicResult, seed: int, index: int, job_id: str) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "take_index": index,
        "engine": result.engine,
        "model_id": result.model_id,
        "revision": result.revision,
        "seed": seed,
        "sample_rate": result.sample_rate,
        "request": spec.request,
        "parameters": result.parameters,
        "adapter": spec.adapter,  # the library LoRA adapter played (name and digests), or None
        "timings": result.timings,
        "parent_take_id": spec.parent_take_id,
    }


def _row(*, job: Job, spec: MusicJobSpec, result: MusicResult, take, index: int, title: str, sha: str,
         parameters: dict[str, Any], made_by: str) -> Take:
    folder = f"takes/{job.id}/{index}"
    return Take(
        job_id=job.id,
        take_index=index,
        title=title,
        prompt=spec.request.get("prompt", ""),
        lyrics=spec.request.get("lyrics", ""),
        tags=", ".join(spec.tags),
        task=spec.request.get("task", "text2music"),
        engine=result.engine,
        model_id=result.model_id,
        revision=result.revision,
        parameters=json.dumps(parameters, sort_keys=True),
        seed=int(take.seed),
        duration=take.audio.shape[-1] / result.sample_rate,
        sample_rate=result.sample_rate,
        channels=int(take.audio.shape[0]) if take.audio.ndim == 2 else 1,
        folder=folder,
        master_file=f"{folder}/{TAKE_FILES['master']}",
        mp3_file=f"{folder}/{TAKE_FILES['mp3']}",
        preview_file=f"{folder}/{TAKE_FILES['preview']}",
        waveform_file=f"{folder}/{TAKE_FILES['waveform']}",
        params_file=f"{folder}/{TAKE_FILES['params']}",
        audio_sha256=sha,
        parent_take_id=spec.parent_take_id,
        song_id=spec.song_id,
        made_by=made_by,
    )
