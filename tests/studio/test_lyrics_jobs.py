"""Lyrics jobs on the queue: draft, rewrite, continue and titles through the real LyricsWriter
with a scripted backend; the growing text in the job row; cancel while the model writes."""

from __future__ import annotations

import json
import threading

import pytest

from lyrics.format import Lyrics
from studio.errors import BadInput
from studio.worker import Worker
from tests.studio.conftest import wait_for
from tests.studio.fake_lyrics import ScriptedBackend, lyrics_backend  # noqa: F401 (fixture)

SONG = "Title: Rain\n\n[Verse 1]\nrain on the window\ngrey on the glass\n\n[Chorus]\nwe wait it out\nwe let it pass"


def make_worker(studio) -> Worker:
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    return worker


def test_draft_streams_partial_text_into_the_job_row_before_it_is_done(studio, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend(["Title: Rain\n\n[verse]\nrain on the window\n",
                                              "grey on the glass\n\n[chorus]\nwe wait it out\nwe let it pass\n"],
                                             hold_before=1)
    job = studio.submit_lyrics(theme="rain", backend="scripted", structure=["verse", "chorus"])
    worker = make_worker(studio)
    runner = threading.Thread(target=worker.run_next)
    runner.start()
    try:
        wait_for(lambda: studio.jobs.get(job.id).partial, timeout=10, what="streamed text in the job row")
        row = studio.jobs.get(job.id)
        assert row.status == "running" and row.result is None
        assert row.partial == "Title: Rain\n\n[verse]\nrain on the window\n"
    finally:
        lyrics_backend.backend.gate.set()
        runner.join(10)
    done = studio.jobs.get(job.id)
    assert done.status == "done", done.error
    assert json.loads(done.result) == {"title": "Rain", "lyrics": "[verse]\nrain on the window\ngrey on the glass\n\n"
                                                                  "[chorus]\nwe wait it out\nwe let it pass"}
    assert not lyrics_backend.backend.closed  # kept warm for the next lyrics job (issue #14 part 5)
    worker.models.close()
    assert lyrics_backend.backend.closed


def test_partial_writes_are_throttled(studio, lyrics_backend, monkeypatch):
    reports = []
    original = studio.jobs.report.__func__

    def counting(self, job_id, **kwargs):
        if kwargs.get("partial") is not None:
            reports.append(kwargs["partial"])
        return original(self, job_id, **kwargs)

    monkeypatch.setattr("studio.jobs.JobStore.report", counting)
    lyrics_backend.backend = ScriptedBackend(["[verse]\n"] + [f"line {i}\n" for i in range(200)])
    job = studio.submit_lyrics(theme="rain", backend="scripted", structure="verse")
    assert make_worker(studio).run_next().status == "done"
    # 201 chunks in well under a second: the first one is written, the rest wait for the interval
    assert 1 <= len(reports) < 10 and reports[0] == "[verse]\n"
    assert studio.jobs.get(job.id).partial is not None


def test_rewrite_replaces_one_section_and_reports_it(studio, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend(["[chorus]\nthe sun comes through\n", "we walk out new\n"])
    studio.submit_lyrics(backend="scripted", action="rewrite", lyrics=SONG, section="chorus",
                               instruction="more hopeful")
    done = make_worker(studio).run_next()
    assert done.status == "done", done.error
    result = json.loads(done.result)
    assert result["section"] == {"index": 1, "tag": "chorus", "lines": ["the sun comes through", "we walk out new"]}
    assert Lyrics.parse(result["lyrics"]).sections[0].lines == ("rain on the window", "grey on the glass")
    assert result["title"] == "Rain"
    prompt = " ".join(m["content"] for m in lyrics_backend.backend.prompts[0])
    assert "more hopeful" in prompt and "grey on the glass" in prompt


def test_rewrite_takes_structured_lyrics_and_a_section_index(studio, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend(["[verse]\nnew first line\n"])
    job = studio.submit_lyrics(backend="scripted", action="rewrite", lyrics=Lyrics.parse(SONG).to_dict(), section=0,
                               instruction="simpler words")
    result = json.loads(make_worker(studio).run_next().result)
    assert result["section"] == {"index": 0, "tag": "verse", "lines": ["new first line"]}
    assert json.loads(studio.jobs.get(job.id).spec)["action"] == "rewrite"


def test_continue_and_titles(studio, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend(["[bridge]\nwhen the clouds break\nwe will know\n"])
    studio.submit_lyrics(backend="scripted", action="continue", lyrics=SONG, sections=["bridge"])
    result = json.loads(make_worker(studio).run_next().result)
    assert [s.tag for s in Lyrics.parse(result["lyrics"]).sections] == ["verse", "chorus", "bridge"]

    lyrics_backend.backend = ScriptedBackend(["1. Waiting Out the Rain\n2. Grey Glass\n"])
    studio.submit_lyrics(backend="scripted", action="titles", lyrics=SONG, count=2)
    done = make_worker(studio).run_next()
    assert json.loads(done.result) == {"titles": ["Waiting Out the Rain", "Grey Glass"]}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "rewrite", "section": 0, "instruction": "x"}, "needs the existing lyrics"),
        ({"action": "rewrite", "lyrics": SONG, "instruction": "x"}, "say which section"),
        ({"action": "rewrite", "lyrics": SONG, "section": "bridge", "instruction": "x"}, "no section 'bridge'"),
        ({"action": "rewrite", "lyrics": SONG, "section": 5, "instruction": "x"}, "no section 5"),
        ({"action": "rewrite", "lyrics": SONG, "section": 0, "instruction": "  "}, "say how to rewrite"),
        ({"action": "rewrite", "lyrics": "   ", "section": 0, "instruction": "x"}, "needs the existing lyrics"),
        ({"action": "titles", "lyrics": SONG, "count": 0}, "1 to 20 titles"),
        ({"action": "continue", "lyrics": SONG, "sections": 9}, "1 to 4 sections"),
        ({"action": "polish", "lyrics": SONG}, "action"),
        ({}, "give a theme"),
    ],
)
def test_bad_lyrics_jobs_are_refused_before_queueing(studio, lyrics_backend, fields, message):
    with pytest.raises(BadInput, match=message):
        studio.submit_lyrics(backend="scripted", **fields)
    assert studio.jobs.list() == []


def test_cancel_stops_a_lyrics_job_while_the_model_writes(studio, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend(["[verse]\nfirst line\n"], endless=True)
    job = studio.submit_lyrics(theme="rain", backend="scripted")
    worker = make_worker(studio)
    runner = threading.Thread(target=worker.run_next)
    runner.start()
    wait_for(lambda: studio.jobs.get(job.id).partial, timeout=10, what="streamed text in the job row")
    studio.cancel(job.id)
    runner.join(10)
    assert not runner.is_alive()
    row = studio.jobs.get(job.id)
    assert row.status == "cancelled" and row.result is None
    # the writer's cancel event is set: a real backend stops at its next token; it stays warm
    assert lyrics_backend.backend.cancel_events[0].is_set() and not lyrics_backend.backend.closed


def test_unusable_model_output_fails_with_a_clear_error(studio, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend(["```\n```\n"])
    studio.submit_lyrics(backend="scripted", action="rewrite", lyrics=SONG, section="chorus", instruction="shorter")
    done = make_worker(studio).run_next()
    assert done.status == "failed" and "no lyric lines" in done.error and done.result is None


@pytest.fixture(scope="module")
def tiny_llama_folder(tmp_path_factory):
    from lyrics.tiny import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama") / "hf")


def test_rewrite_job_on_a_tiny_random_llama_through_the_transformers_backend(studio, tiny_llama_folder):
    """Random weights: this proves the wiring (real backend, streaming into the row, result
    shape), not the words."""
    job = studio.submit_lyrics(backend="transformers", backend_options={"model": str(tiny_llama_folder),
                                                                        "device": "cpu"},
                               action="rewrite", lyrics=SONG, section=1, instruction="more hopeful", seed=3)
    done = make_worker(studio).run_next()
    assert done.status == "done", done.error
    result = json.loads(done.result)
    assert result["section"]["index"] == 1 and result["section"]["lines"]
    assert Lyrics.parse(result["lyrics"]).sections[0].lines == ("rain on the window", "grey on the glass")
    assert studio.jobs.get(job.id).partial  # the streamed text reached the row
