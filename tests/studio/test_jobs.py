"""The job lifecycle in one process: submit, claim, progress, results, faults, cancel, retry, recovery."""

from __future__ import annotations

import errno
import json
import sqlite3
import threading
from pathlib import Path

import pytest
import soundfile as sf

from studio import worker as worker_module
from studio.errors import BadInput, EnvironmentProblem, NotFound
from studio.service import Studio
from studio.settings import Settings
from studio.tables import Job
from studio.worker import Worker
from tests.studio.conftest import wait_for


def make_worker(studio: Studio) -> Worker:
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    return worker


def library_files(settings: Settings) -> list:
    takes = settings.library_dir / "takes"
    return sorted(p for p in takes.rglob("*") if p.is_file()) if takes.exists() else []


def staging_files(settings: Settings) -> list:
    staging = settings.library_dir / ".staging"
    return sorted(p for p in staging.rglob("*") if p.is_file()) if staging.exists() else []


def test_submit_returns_at_once_and_the_worker_stores_every_take(studio):
    first = studio.submit_music(prompt="dream pop", duration=1.5, batch_size=2, seeds=[7, 8], title="Dream",
                                tags=["demo"])
    second = studio.submit_music(lyrics="[verse]\nhello", duration=1.0)
    assert first.status == "queued" and len(first.id) == 12
    assert studio.view(first.id).position == 1 and studio.view(second.id).position == 2
    assert studio.queue.pending() == 2

    worker = make_worker(studio)
    done = worker.run_next()
    assert done.id == first.id and done.status == "done" and done.attempts == 1
    assert studio.view(second.id).position == 1
    takes = studio.library.takes_of_job(first.id)
    assert [(t.take_index, t.seed, t.title) for t in takes] == [(0, 7, "Dream · take 1"), (1, 8, "Dream · take 2")]
    assert json.loads(done.result) == {"take_ids": [t.id for t in takes]}
    take = takes[0]
    assert (take.engine, take.model_id, take.revision, take.sample_rate, take.channels) == ("fake", "fake-sine", "1",
                                                                                            24000, 2)
    assert take.duration == pytest.approx(1.5) and take.tags == "demo"
    params = json.loads(take.parameters)
    assert params["request"]["prompt"] == "dream pop" and params["seed"] == 7
    master = studio.library.path(take)
    assert sf.info(str(master)).subtype == "PCM_24"
    assert not master.stat().st_mode & 0o222  # immutable once stored
    assert studio.output_paths(done.id) == [studio.library.path(t) for t in takes]
    assert staging_files(studio.settings) == []
    assert worker.run_next().id == second.id
    assert worker.run_next() is None


def test_bad_requests_are_refused_before_queueing(studio, tmp_path):
    cases = [
        (dict(engine="nope", prompt="x"), BadInput, "unknown engine 'nope'; known engines: .*fake"),
        (dict(prompt="x", duration=0), BadInput, r"duration must be in \(0, 60\]"),
        (dict(prompt="x", duration=61), BadInput, r"duration must be in \(0, 60\]"),
        (dict(prompt=" ", lyrics=""), BadInput, "give a prompt, lyrics or both"),
        (dict(prompt="x", task="extract"), BadInput, "cannot run task 'extract'"),
        (dict(prompt="x", model="no-such-model"), BadInput, "unknown model 'no-such-model'"),
        (dict(prompt="x", model="ace-step-v1"), NotFound, "models download ace-step-v1"),
        (dict(prompt="x", parent_take_id=42), NotFound, "no take 42"),
        (dict(prompt="x", task="retake", source_audio=str(tmp_path / "gone.wav")), BadInput, "does not exist"),
        (dict(prompt="x", bogus=1), BadInput, "unknown request field"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            studio.submit_music(**kwargs)
    with pytest.raises(BadInput, match="unknown lyrics backend"):
        studio.submit_lyrics(theme="rain", backend="nope")
    assert studio.jobs.list() == []


def test_failed_job_keeps_spec_and_error_and_can_be_retried(studio, tmp_path):
    job = studio.submit_music(prompt="retry me", duration=1, options={"fail_once_file": str(tmp_path / "m")})
    worker = make_worker(studio)
    failed = worker.run_next()
    assert failed.status == "failed" and "fake transient failure" in failed.error
    assert json.loads(failed.spec)["request"]["prompt"] == "retry me"
    assert library_files(studio.settings) == [] and staging_files(studio.settings) == []
    with pytest.raises(BadInput, match="only queued or running"):
        studio.jobs.cancel(job.id)
    assert studio.retry(job.id).status == "queued"
    done = worker.run_next()
    assert (done.status, done.attempts, done.error) == ("done", 2, None)
    with pytest.raises(BadInput, match="only failed or cancelled"):
        studio.jobs.retry(job.id)


def test_engine_garbage_and_full_disk_fail_cleanly(studio, monkeypatch):
    worker = make_worker(studio)
    nan = studio.submit_music(prompt="nan", duration=1, options={"nan": True})
    assert "NaN" in worker.run_next().error
    assert library_files(studio.settings) == [] and staging_files(studio.settings) == []

    def full_disk(self, data):  # the take's files are encoded in memory, then written
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    job = studio.submit_music(prompt="big", duration=1)
    failed = worker.run_next()
    assert failed.id == job.id and failed.status == "failed"
    assert failed.error.startswith("disk full while writing") and "retry the job" in failed.error
    assert library_files(studio.settings) == [] and staging_files(studio.settings) == []
    assert studio.library.takes_of_job(job.id) == []
    monkeypatch.undo()
    studio.jobs.retry(job.id)
    assert worker.run_next().status == "done"
    assert studio.jobs.get(nan.id).status == "failed"


def test_cancel_queued_and_running(studio):
    worker = make_worker(studio)
    queued = studio.submit_music(prompt="never runs", duration=1)
    assert studio.jobs.cancel(queued.id[:6]).status == "cancelled"  # id prefixes work
    assert worker.run_next() is None

    running = studio.submit_music(prompt="long", duration=1, steps=200, options={"step_delay": 0.05})
    thread = threading.Thread(target=worker.run_next)
    thread.start()
    wait_for(lambda: studio.jobs.get(running.id).step >= 2, timeout=20, what="the job to make progress")
    after = studio.jobs.cancel(running.id)
    assert after.status == "running" and after.cancel_requested
    thread.join(timeout=10)
    job = studio.jobs.get(running.id)
    assert job.status == "cancelled" and job.step < 200
    assert library_files(studio.settings) == []
    studio.jobs.retry(job.id)  # a cancelled job can run again, and is no longer flagged
    assert not studio.jobs.get(job.id).cancel_requested


def test_recovery_requeues_jobs_of_dead_workers_and_gives_up_on_poison(studio):
    job = studio.submit_music(prompt="orphan", duration=1)
    dead = "some-host-that-is-not-this:1:x"
    worker = make_worker(studio)
    assert studio.jobs.claim_next(worker=dead, device="cpu").id == job.id
    assert studio.jobs.recover(lease_s=30, max_attempts=3).requeued == []  # another host, fresh heartbeat
    assert studio.jobs.recover(lease_s=0, max_attempts=3).requeued == [job.id]  # lease expired
    assert studio.jobs.get(job.id).status == "queued"

    import socket

    for attempt in (2, 3):
        assert studio.jobs.claim_next(worker=f"{socket.gethostname()}:999999:x", device="cpu").attempts == attempt
        recovery = studio.jobs.recover(lease_s=30, max_attempts=3)  # pid 999999 is not alive here
    assert recovery.failed == [job.id]
    failed = studio.jobs.get(job.id)
    assert failed.status == "failed" and "stopped 3 times" in failed.error
    assert worker.run_next() is None


def test_lost_claim_discards_the_output(studio):
    job = studio.submit_music(prompt="stolen", duration=1, steps=40, options={"step_delay": 0.05})
    worker = make_worker(studio)
    thread = threading.Thread(target=worker.run_next)
    thread.start()
    wait_for(lambda: studio.jobs.get(job.id).step >= 2, timeout=20, what="progress")
    studio.jobs.recover(lease_s=-1, max_attempts=5)  # as if the heartbeat went stale: re-queued
    thread.join(timeout=20)
    assert studio.jobs.get(job.id).status == "queued"
    assert library_files(studio.settings) == [] and studio.library.takes_of_job(job.id) == []
    assert worker.run_next().status == "done"
    assert len(studio.library.takes_of_job(job.id)) == 1


def test_lyrics_job_uses_the_backend_registry_and_writer(studio, monkeypatch):
    from lyrics.registry import backends

    class Backend:
        def __init__(self, **options):
            self.options = options

        def close(self):
            pass

    class Lyrics:
        title = "Rain"

        def render(self):
            return "[verse]\nrain on the window"

    class Stream:
        raw = "[verse]\nrain on the window"

        def __iter__(self):
            return iter([self.raw])

        def result(self):
            return Lyrics()

    class LyricsWriter:
        def __init__(self, backend):
            assert backend.options == {"temperature": 0.1}

        def draft_stream(self, *, theme, genre, mood, language, structure, length, seed, **budget):
            assert (theme, genre, language) == ("rain", "folk", "en")
            return Stream()

    monkeypatch.setattr(backends, "_factories", dict(backends._factories))
    backends.register("fake-lyrics", lambda **options: Backend(**options))
    monkeypatch.setattr(worker_module, "LyricsWriter", LyricsWriter)  # the worker's own name for the writer
    job = studio.submit_lyrics(theme="rain", backend="fake-lyrics", genre="folk",
                               backend_options={"temperature": 0.1})
    assert job.kind == "lyrics"
    done = make_worker(studio).run_next()
    assert done.status == "done", done.error
    result = json.loads(done.result)
    assert {key: result[key] for key in ("title", "lyrics")} == {"title": "Rain", "lyrics": "[verse]\nrain on the window"}
    assert result["model"]["label"] == "the fake-lyrics backend's model"  # which model wrote it


def test_locked_database_is_a_clear_error(studio_env, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_SQLITE_BUSY_TIMEOUT_S", "0.3")
    studio = Studio.open(Settings())
    blocker = sqlite3.connect(studio.settings.home / "library.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(EnvironmentProblem, match="stayed locked for more than 0.3 s"):
            studio.submit_music(prompt="x", duration=1)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert studio.submit_music(prompt="x", duration=1).status == "queued"


def test_unwritable_home_is_a_clear_error(tmp_path, studio_env, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SONGSTUDIO_HOME", str(blocker / "home"))
    with pytest.raises(EnvironmentProblem, match="is not writable .*SONGSTUDIO_HOME"):
        Studio.open(Settings())


def test_unreachable_queue_keeps_the_job_and_a_worker_picks_it_up(studio, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_QUEUE_BACKEND", "redis")
    monkeypatch.setenv("SONGSTUDIO_REDIS_URL", "redis://:secret@127.0.0.1:9/0")
    offline = Studio(Settings(), studio.db, __import__("studio.queue", fromlist=["JobQueue"]).JobQueue(Settings()))
    with pytest.raises(EnvironmentProblem, match="unreachable.*not lost") as info:
        offline.submit_music(prompt="saved anyway", duration=1)
    assert "secret" not in str(info.value)
    [job] = studio.jobs.list()
    assert job.status == "queued"
    assert make_worker(studio).run_next().id == job.id  # the worker re-sent the wake-up on start


def test_job_rows_are_plain_json(studio):
    job = studio.submit_music(prompt="x", duration=1)
    with studio.db.read() as session:
        row = session.get(Job, job.id)
    spec = json.loads(row.spec)
    assert spec["engine"] == "fake" and spec["request"]["duration"] == 1


def test_leftovers_of_a_crash_are_replaced_not_kept(studio):
    """A SIGKILL after the folder rename but before the commit leaves a folder no row points at;
    a SIGKILL while writing leaves staging files. The retry replaces both."""
    job = studio.submit_music(prompt="crash leftovers", duration=1)
    media = studio.settings.library_dir
    orphan = media / "takes" / job.id / "0"
    orphan.mkdir(parents=True)
    (orphan / "master.flac").write_bytes(b"half a file")
    stale = media / ".staging" / job.id / "0"
    stale.mkdir(parents=True)
    (stale / ".master.flac.1234.tmp").write_bytes(b"partial")
    done = make_worker(studio).run_next()
    assert done.status == "done"
    [take] = studio.library.takes_of_job(job.id)
    assert sf.info(str(studio.library.path(take))).frames == 24000
    assert sorted(p.name for p in (media / "takes" / job.id / "0").iterdir()) == [
        "master.c2pa", "master.flac", "params.json", "preview.mp3", "take.mp3", "waveform.json"]
    assert staging_files(studio.settings) == []


def test_stored_takes_are_never_overwritten(studio):
    from studio.take_store import _move_into_library, job_folder

    job = studio.submit_music(prompt="once", duration=1)
    make_worker(studio).run_next()
    staging = studio.settings.library_dir / ".staging" / job.id
    staging.mkdir(parents=True)
    with pytest.raises(RuntimeError, match="refusing to overwrite"):
        _move_into_library(db=studio.db, staging=staging, final=job_folder(studio.settings.library_dir, job.id),
                           job_id=job.id)
    assert studio.library.path(studio.library.takes_of_job(job.id)[0]).is_file()


def test_null_prompt_or_lyrics_are_stored_as_no_text(studio):
    job = studio.submit_music(prompt=None, lyrics="[verse]\nla", duration=0.5)
    assert json.loads(studio.jobs.get(job.id).spec)["request"]["prompt"] == ""
    assert make_worker(studio).run_next().status == "done"
    assert studio.library.takes_of_job(job.id)[0].prompt == ""


def test_a_cancelled_job_whose_worker_died_is_not_run_again(studio):
    job = studio.submit_music(prompt="cancel then crash", duration=1)
    assert studio.jobs.claim_next(worker="gone-host:1:x", device="cpu").id == job.id
    assert studio.cancel(job.id).cancel_requested  # running: the worker would stop at its next step ...
    recovery = studio.jobs.recover(lease_s=0, max_attempts=3)  # ... but it died first
    assert (recovery.cancelled, recovery.requeued) == ([job.id], [])
    assert studio.jobs.get(job.id).status == "cancelled"
    assert make_worker(studio).run_next() is None


def test_shared_checks_run_at_submit_for_an_engine_that_needs_an_instance(studio):
    """ace-step-1.5 checks its own fields only once built (in the worker); the shared ones run at submit."""
    for fields, message in [({"prompt": "x", "duration": 999}, r"duration must be in \(0, 600\]"),
                            ({"duration": 10}, "give a prompt, lyrics or both"),
                            ({"prompt": "x", "duration": 10, "guidance_scale": float("inf")}, "finite")]:
        with pytest.raises(BadInput, match=message):
            studio.submit_music(engine="ace-step-1.5", **fields)
    assert studio.jobs.list() == []
