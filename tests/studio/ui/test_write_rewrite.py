"""Write page: each section's Rewrite control queues a rewrite job; the streamed text shows while
it runs; the finished job replaces just that section. The job runs on the real worker with the
scripted lyrics backend (no model)."""

from __future__ import annotations

import json

import pytest

from tests.studio.fake_lyrics import ScriptedBackend, lyrics_backend  # noqa: F401 (fixture)


@pytest.fixture
def write_page(app, lyrics_backend, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_LYRICS_BACKEND", "scripted")
    app.switch_page("views/write.py").run()
    (first,) = line_areas(app)
    first.set_value("rain on the window\ngrey on the glass").run()
    [b for b in app.button if b.label == "Add section"][0].click().run()
    line_areas(app)[1].set_value("we wait it out\nwe let it pass").run()
    return app


def line_areas(app):
    return [t for t in app.text_area if t.key and t.key.startswith("write-lines-")]


def uid_of(area) -> str:
    return area.key.removeprefix("write-lines-")


def no_errors(app) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def test_rewrite_control_queues_a_job_and_replaces_only_that_section(write_page, lyrics_backend, service, run_jobs):
    app = write_page
    chorus = uid_of(line_areas(app)[1])
    app.text_input(key=f"write-instruction-{chorus}").set_value("more hopeful")
    app.button(key=f"write-rewrite-{chorus}").click().run()
    no_errors(app)
    job_id = app.query_params["lyrics_job"]
    spec = json.loads(service.jobs.get(job_id).spec)
    assert (spec["action"], spec["section"], spec["instruction"]) == ("rewrite", 1, "more hopeful")
    assert [s["lines"] for s in spec["lyrics"]["sections"]] == [["rain on the window", "grey on the glass"],
                                                                  ["we wait it out", "we let it pass"]]
    assert [t.value for t in line_areas(app)][1] == "we wait it out\nwe let it pass"  # unchanged while queued

    lyrics_backend.backend = ScriptedBackend(["[chorus]\nthe sun comes through\n", "we walk out new\n"])
    (done,) = run_jobs()
    assert done.status == "done", done.error
    app.run()
    no_errors(app)
    assert [t.value for t in line_areas(app)] == ["rain on the window\ngrey on the glass",
                                                  "the sun comes through\nwe walk out new"]
    prompt = " ".join(m["content"] for m in lyrics_backend.backend.prompts[0])
    assert "more hopeful" in prompt
    app.run()  # a later run keeps the person's edits: the result is applied once
    line_areas(app)[1].set_value("my own line").run()
    assert line_areas(app)[1].value == "my own line"


def test_rewrite_without_an_instruction_is_refused_on_the_page(write_page, service):
    app = write_page
    verse = uid_of(line_areas(app)[0])
    app.button(key=f"write-rewrite-{verse}").click().run()
    assert any("say how to rewrite" in e.value for e in app.error)
    assert "lyrics_job" not in app.query_params and service.jobs.list() == []


def test_running_lyrics_job_shows_the_streamed_text(write_page, service):
    from studio.jobs import new_worker_id

    app = write_page
    chorus = uid_of(line_areas(app)[1])
    app.text_input(key=f"write-instruction-{chorus}").set_value("shorter")
    app.button(key=f"write-rewrite-{chorus}").click().run()
    job_id = app.query_params["lyrics_job"]
    worker = new_worker_id()
    assert service.jobs.claim_next(worker=worker, device="cpu").id == job_id
    service.jobs.report(job_id, worker=worker, stage="lyrics", step=0, total=1, partial="[chorus]\nthe sun com")
    app.run()
    no_errors(app)
    assert "[chorus]\nthe sun com" in [t.value for t in app.text]


def queue_chorus_rewrite(app) -> str:
    chorus = uid_of(line_areas(app)[1])
    app.text_input(key=f"write-instruction-{chorus}").set_value("more hopeful")
    app.button(key=f"write-rewrite-{chorus}").click().run()
    return chorus


def test_the_rewritten_section_is_found_after_it_moved(write_page, lyrics_backend, run_jobs):
    app = write_page
    chorus = queue_chorus_rewrite(app)
    app.button(key=f"write-up-{chorus}").click().run()  # the chorus is now first
    lyrics_backend.backend = ScriptedBackend(["[chorus]\nthe sun comes through\n"])
    run_jobs()
    app.run()
    no_errors(app)
    assert [t.value for t in line_areas(app)] == ["the sun comes through", "rain on the window\ngrey on the glass"]


def test_a_section_removed_meanwhile_is_not_overwritten_and_the_new_lines_are_shown(write_page, lyrics_backend,
                                                                                     run_jobs):
    app = write_page
    chorus = queue_chorus_rewrite(app)
    app.button(key=f"write-remove-{chorus}").click().run()
    lyrics_backend.backend = ScriptedBackend(["[chorus]\nthe sun comes through\n"])
    run_jobs()
    app.run()
    assert [t.value for t in line_areas(app)] == ["rain on the window\ngrey on the glass"]
    assert any("removed meanwhile" in e.value and "the sun comes through" in e.value for e in app.error)
