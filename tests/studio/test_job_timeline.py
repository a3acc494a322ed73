"""Stage times recorded by the worker and the time estimates made from them (#14 part 2)."""

from __future__ import annotations

import json

import pytest

from studio.job_timeline import (
    FinishedRun,
    StageTime,
    Timeline,
    format_eta,
    parse_timeline,
    queue_wait,
    remaining_running,
    typical_seconds,
)
from studio.worker import Worker


def test_timeline_starts_each_stage_where_the_last_report_left_off():
    timeline = Timeline(started=100.0)
    timeline.record("load", 0, 1, now=101.0)
    timeline.record("diffusion", 1, 8, now=103.0)
    timeline.record("diffusion", 4, 8, now=109.0)
    load, diffusion = parse_timeline(timeline.to_json())
    assert (load.stage, load.start, load.at) == ("load", 100.0, 101.0)
    assert (diffusion.start, diffusion.at, diffusion.step, diffusion.total) == (101.0, 109.0, 4, 8)
    assert diffusion.step_seconds == 2.0


def test_a_running_job_is_estimated_from_its_own_step_time_plus_the_typical_later_stages():
    stages = [StageTime(stage="load", start=0, at=1, step=0, total=1),
              StageTime(stage="diffusion", start=1, at=9, step=4, total=8)]  # 2 s a step, 4 to go
    history = [FinishedRun(seconds=30, stages=[StageTime(stage="diffusion", start=0, at=20, step=8, total=8),
                                                StageTime(stage="encode", start=20, at=23, step=2, total=2)])]
    assert remaining_running(stages, history, now=9.0) == pytest.approx(8 + 3)
    assert remaining_running(stages, history, now=12.0) == pytest.approx(5 + 3)  # time passes since the last step
    assert remaining_running(stages, [], now=9.0) == pytest.approx(8)  # nothing after it is known


def test_no_measurement_means_no_estimate_not_a_guess():
    fresh = [StageTime(stage="load", start=0, at=0, step=0, total=1)]
    assert remaining_running(fresh, [], now=1.0) is None
    assert typical_seconds([]) is None
    assert queue_wait([5.0, None], workers=1) is None
    assert format_eta(None) == ""
    assert parse_timeline("not json") == [] and parse_timeline(None) == []


def test_queue_wait_shares_the_work_ahead_among_workers_and_the_eta_reads_as_words():
    assert queue_wait([10.0, 20.0], workers=1) == 30.0
    assert queue_wait([10.0, 20.0], workers=2) == 15.0
    assert format_eta(42.4) == "about 42 s" and format_eta(125) == "about 2 min 05 s" and format_eta(0.2) == "finishing"


def test_the_worker_stores_the_stage_times_in_the_job_row(studio):
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    job = studio.submit_music(engine="fake", prompt="timed", duration=1, batch_size=1, seeds=[1], steps=3)
    worker.run_next()
    row = studio.jobs.get(job.id)
    stages = parse_timeline(row.timeline)
    assert [s.stage for s in stages][:2] == ["load", "diffusion"] and stages[1].total == 3
    assert all(s.start <= s.at for s in stages)
    assert stages[0].start >= row.started_at.timestamp() - 1
    assert json.loads(row.timeline)  # plain JSON in the row


def test_a_retried_job_starts_a_new_record(studio):
    job = studio.submit_music(engine="fake", prompt="again", duration=1, batch_size=1, seeds=[1], steps=3)
    claimed = studio.jobs.claim_next(worker="w", device="cpu")
    studio.jobs.report(claimed.id, worker="w", stage="diffusion", step=1, total=3,
                       timeline=Timeline(started=0).to_json())
    studio.jobs.fail(job.id, worker="w", error="boom")
    assert studio.jobs.get(job.id).timeline is not None
    assert studio.retry(job.id).timeline is None
