"""#14 part 2: one jobs panel on every page (the sidebar) and the Jobs page; Create keeps every
job it queued; a reload with ?job= restores the form with the job.

AppTest runs of the real pages; the worker runs only when a test calls `run_jobs()`.
"""

from __future__ import annotations

import re
import time

from streamlit.testing.v1 import AppTest

from studio.job_timeline import Timeline
from tests.studio.ui.conftest import APP
from tests.studio.ui.test_pages import button, fill_create, no_errors


def progress_texts(block) -> list[str]:
    return [p.proto.text for p in block.get("progress")]


def url_jobs(app) -> list[str]:
    value = app.query_params.get("job", [])
    return [value] if isinstance(value, str) else list(value)


def test_a_second_job_on_create_does_not_hide_the_first(app, service, run_jobs):
    app.run()
    fill_create(app, prompt="first song", takes=1)
    button(app, "Generate").click().run()
    app.run()
    fill_create(app, prompt="second song", takes=1)
    button(app, "Generate").click().run()
    no_errors(app)
    second, first = url_jobs(app)  # newest first
    assert {j.id for j in service.jobs.list()} == {first, second}
    app.run()
    assert progress_texts(app.main) == ["Queued: #2 in queue", "Queued: next to run"]  # newest shown first
    assert [c.value for c in app.main.caption if c.value.startswith("Job ")] == [f"Job `{second}`", f"Job `{first}`"]

    run_jobs()
    app.run()
    no_errors(app)
    titles = [m.value for m in app.main.markdown if m.value.startswith("**first song · take")]
    # both jobs' takes, each under its job; the second Generate added to the song the first one started
    assert titles == ["**first song · take 2**", "**first song · take 1**"]


def test_the_sidebar_lists_every_queued_job_on_every_page_with_its_place(app, service, run_jobs):
    done = service.submit_music(engine="fake", prompt="finished one", duration=1, batch_size=1, seeds=[1], steps=2)
    run_jobs()
    a = service.submit_music(engine="fake", prompt="waiting a", duration=1, batch_size=1, seeds=[2], steps=2)
    b = service.submit_music(engine="fake", prompt="waiting b", duration=1, batch_size=1, seeds=[3], steps=2)
    for page in ("views/write.py", "views/library.py", "views/settings.py", "views/create.py"):
        app.switch_page(page).run()
        no_errors(app)
        assert [s.value for s in app.sidebar.subheader] == ["Jobs"]
        texts = progress_texts(app.sidebar)
        assert len(texts) == 2 and texts[0].startswith("Queued: next to run") and texts[1].startswith("Queued: #2")
        # the finished job is listed with a link to its take
        assert "Done" in [c.value for c in app.sidebar.caption]
        take_id = service.library.takes_of_job(done.id)[0].id
        assert f"Take {take_id}" in [p.proto.label for p in app.sidebar.get("page_link")]
    assert {a.id, b.id} <= {j.id for j in service.jobs.list(status="queued")}


def test_queued_jobs_show_a_measured_eta_once_a_job_has_finished(app, service, run_jobs):
    service.submit_music(engine="fake", prompt="timed", duration=1, batch_size=1, seeds=[1], steps=2)
    run_jobs()
    service.submit_music(engine="fake", prompt="next", duration=1, batch_size=1, seeds=[2], steps=2)
    app.switch_page("views/jobs.py").run()
    no_errors(app)
    (text,) = progress_texts(app.main)
    assert re.fullmatch(r"Queued: next to run · (about \d+ s left|finishing)", text), text


def test_a_running_job_shows_step_i_of_n_and_the_time_its_steps_say_is_left(app, service):
    job = service.submit_music(engine="fake", prompt="running", duration=1, batch_size=1, seeds=[1], steps=10)
    claimed = service.jobs.claim_next(worker="w", device="cpu")
    now = time.time()
    timeline = Timeline(started=now - 9)
    timeline.record("load", 0, 1, now=now - 8)
    timeline.record("diffusion", 4, 10, now=now)  # 2 s a step so far, 6 steps to go: about 12 s
    service.jobs.report(claimed.id, worker="w", stage="diffusion", step=4, total=10, timeline=timeline.to_json())
    app.switch_page("views/jobs.py").run()
    (text,) = progress_texts(app.main)
    assert re.fullmatch(r"Running: diffusion, step 4/10 · about 1[12] s left", text), text
    assert job.id in " ".join(c.value for c in app.main.caption)


def test_cancel_and_retry_from_the_jobs_page(app, service):
    job = service.submit_music(engine="fake", prompt="change of mind", duration=1, batch_size=1, seeds=[1], steps=2)
    app.switch_page("views/jobs.py").run()
    app.button(key=f"page-jobs-cancel-{job.id}").click().run()
    no_errors(app)
    assert service.jobs.get(job.id).status == "cancelled"
    assert "Cancelled" in [c.value for c in app.main.caption]
    app.button(key=f"page-jobs-retry-{job.id}").click().run()
    assert service.jobs.get(job.id).status == "queued"
    assert progress_texts(app.main) == ["Queued: next to run"]


def test_a_failed_job_says_why_and_offers_retry_and_a_done_job_links_its_takes(app, service, run_jobs):
    bad = service.submit_music(engine="fake", prompt="doomed", duration=1, batch_size=1, seeds=[1], steps=2)
    claimed = service.jobs.claim_next(worker="w", device="cpu")
    service.jobs.fail(claimed.id, worker="w", error="the engine ran out of patience")
    good = service.submit_music(engine="fake", prompt="fine", duration=1, batch_size=2, seeds=[1, 2], steps=2)
    run_jobs()
    app.switch_page("views/jobs.py").run()
    no_errors(app)
    assert "Failed" in [e.value for e in app.main.error]
    assert "the engine ran out of patience" in [t.value for t in app.main.text]
    assert app.button(key=f"page-jobs-retry-{bad.id}").label == "Retry"
    links = [p.proto.label for p in app.main.get("page_link")]
    assert links == [f"Take {t.id}" for t in service.library.takes_of_job(good.id)]
    assert ["fine", "doomed"] == [t.value for t in app.main.text if t.value in ("fine", "doomed")]


def test_a_reload_with_the_job_in_the_url_restores_the_form_it_was_made_with(settings, service):
    job = service.submit_music(engine="fake", prompt="reloaded prompt", lyrics="[verse]\nline one", duration=7,
                               batch_size=2, seeds=[11, 12], steps=5, guidance_scale=4.0)
    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.query_params["job"] = job.id
    fresh.run()
    fresh.switch_page("views/create.py").run()
    no_errors(fresh)
    state = fresh.session_state
    assert state["create-prompt"] == "reloaded prompt" and state["create-lyrics"] == "[verse]\nline one"
    assert state["create-duration"] == 7 and state["create-takes"] == 2 and state["create-steps"] == 5
    assert state["create-seeds"] == "11, 12" and state["create-lock"] is False  # seeds shown, not forced
    assert progress_texts(fresh.main) == ["Queued: next to run"]


def test_the_address_slash_forwards_to_create_with_every_job_kept(settings, service):
    first = service.submit_music(engine="fake", prompt="one", duration=1, batch_size=1, seeds=[1], steps=2)
    second = service.submit_music(engine="fake", prompt="two", duration=1, batch_size=1, seeds=[2], steps=2)
    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.query_params["job"] = [second.id, first.id]
    fresh.run()
    no_errors(fresh)
    assert [t.value for t in fresh.title] == ["Create"]
    assert len(progress_texts(fresh.main)) == 2 and fresh.session_state["create-prompt"] == "two"
