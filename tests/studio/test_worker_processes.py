"""Real worker processes: SIGKILL mid-job, many submitters, cancel, and several workers on
PostgreSQL + Redis (the several-machines set-up). Each job must finish exactly once."""

from __future__ import annotations

import signal
import threading
import uuid
from collections import Counter

import pytest
from sqlmodel import select

from studio.service import Studio
from studio.settings import Settings
from studio.tables import Take
from tests.studio.conftest import wait_for


def all_takes(studio: Studio) -> list[Take]:
    with studio.db.read() as session:
        return list(session.exec(select(Take)).all())


def assert_exactly_once(studio: Studio, job_ids: list[str], takes_per_job: int = 1) -> None:
    jobs = [studio.jobs.get(job_id) for job_id in job_ids]
    assert [(j.status, j.error) for j in jobs] == [("done", None)] * len(jobs)
    per_job = Counter(t.job_id for t in all_takes(studio))
    assert per_job == Counter({job_id: takes_per_job for job_id in job_ids})
    folders = sorted(p.name for p in (studio.settings.library_dir / "takes").iterdir())
    assert folders == sorted(job_ids)
    staging = studio.settings.library_dir / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def worker_ready(worker) -> bool:
    return " worker " in worker.output() and " on cpu" in worker.output()


def test_sigkill_mid_job_then_restart_finishes_exactly_once(studio, studio_env, spawn_worker):
    job = studio.submit_music(prompt="survivor", duration=1, batch_size=2, steps=60, options={"step_delay": 0.05})
    first = spawn_worker(studio_env)
    wait_for(lambda: studio.jobs.get(job.id).step >= 5, timeout=60, what="the job to run", every=0.02)
    first.stop(signal.SIGKILL)
    caught = studio.jobs.get(job.id)
    assert caught.status == "running" and caught.attempts == 1  # the crash left it mid-run

    second = spawn_worker(studio_env)
    done = wait_for(lambda: (j := studio.jobs.get(job.id)).status in ("done", "failed") and j, timeout=90,
                    what="the restarted worker to finish the job")
    assert (done.status, done.attempts) == ("done", 2), second.output()
    assert "was running on a worker that is gone: re-queued" in second.output()
    assert_exactly_once(studio, [job.id], takes_per_job=2)


def test_twenty_jobs_from_four_threads_finish_exactly_once(studio, studio_env, spawn_worker):
    workers = [spawn_worker(studio_env), spawn_worker(studio_env)]
    submitted: list[str] = []
    lock = threading.Lock()

    def submit(thread: int) -> None:
        for n in range(5):
            job = studio.submit_music(prompt=f"thread {thread} job {n}", duration=0.5, steps=3)
            with lock:
                submitted.append(job.id)

    threads = [threading.Thread(target=submit, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(submitted)) == 20
    wait_for(lambda: studio.jobs.count("done") == 20, timeout=120, what="20 jobs to finish", every=0.2)
    assert all(w.proc.poll() is None for w in workers), workers[0].output()
    assert {studio.jobs.get(j).attempts for j in submitted} == {1}
    assert_exactly_once(studio, submitted)


def test_cancel_queued_and_running_with_a_real_worker(studio, studio_env, spawn_worker):
    worker = spawn_worker(studio_env)
    running = studio.submit_music(prompt="long", duration=1, steps=400, options={"step_delay": 0.05})
    waiting = studio.submit_music(prompt="waits", duration=1)
    wait_for(lambda: studio.jobs.get(running.id).step >= 3, timeout=60, what="the long job to run")
    assert studio.view(waiting.id).position == 1
    assert studio.jobs.cancel(waiting.id).status == "cancelled"
    studio.jobs.cancel(running.id)
    stopped = wait_for(lambda: (j := studio.jobs.get(running.id)).status != "running" and j, timeout=20,
                       what="the running job to stop")
    assert stopped.status == "cancelled" and stopped.step < 400, worker.output()
    assert studio.jobs.get(waiting.id).attempts == 0  # never started
    after = studio.submit_music(prompt="after", duration=0.5, steps=2)
    wait_for(lambda: studio.jobs.get(after.id).status == "done", timeout=30, what="the next job")
    assert studio.jobs.get(waiting.id).status == "cancelled"
    assert [t.job_id for t in all_takes(studio)] == [after.id]


@pytest.mark.network
def test_two_workers_on_postgres_and_redis_finish_every_job_once(studio_env, spawn_worker, pg_url, redis_url,
                                                                 monkeypatch):
    env = {
        **studio_env,
        "SONGSTUDIO_DATABASE_URL": pg_url,
        "SONGSTUDIO_QUEUE_BACKEND": "redis",
        "SONGSTUDIO_REDIS_URL": redis_url,
        "SONGSTUDIO_QUEUE_NAME": f"songstudio-test-{uuid.uuid4().hex[:8]}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    studio = Studio.open(Settings())
    try:
        workers = [spawn_worker(env), spawn_worker(env)]
        for worker in workers:
            wait_for(lambda: worker_ready(worker) or worker.proc.poll() is not None, timeout=60,
                     what="a worker to start")
            assert worker.proc.poll() is None, worker.output()
        submitted: list[str] = []
        lock = threading.Lock()

        def submit(thread: int) -> None:
            for n in range(4):
                job = studio.submit_music(prompt=f"t{thread} j{n}", duration=0.5, steps=4,
                                          options={"step_delay": 0.02})
                with lock:
                    submitted.append(job.id)

        threads = [threading.Thread(target=submit, args=(t,)) for t in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_for(lambda: studio.jobs.count("done") == 12, timeout=120, what="12 jobs on PostgreSQL", every=0.2)
        assert_exactly_once(studio, submitted)
        ran_on = {studio.jobs.get(j).worker for j in submitted}
        assert len(ran_on) == 2, "both workers should have taken jobs"
    finally:
        studio.queue.huey.flush()
        studio.db.dispose()


def test_sigkill_while_writing_files_leaves_nothing_half_done(studio, studio_env, spawn_worker):
    job = studio.submit_music(prompt="killed while encoding", duration=40, batch_size=3, steps=2)
    first = spawn_worker(studio_env)
    wait_for(lambda: studio.jobs.get(job.id).stage == "encode", timeout=90, what="the encode stage", every=0.01)
    first.stop(signal.SIGKILL)
    assert studio.jobs.get(job.id).status == "running"
    assert not (studio.settings.library_dir / "takes" / job.id).exists()  # nothing reached the library
    spawn_worker(studio_env)
    done = wait_for(lambda: (j := studio.jobs.get(job.id)).status in ("done", "failed") and j, timeout=120,
                    what="the restarted worker to finish")
    assert (done.status, done.attempts) == ("done", 2)
    assert_exactly_once(studio, [job.id], takes_per_job=3)
