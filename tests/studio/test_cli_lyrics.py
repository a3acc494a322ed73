"""`songstudio lyrics ...`: jobs on the queue, printed as ACE-Step v1 text or JSON; with the
real starter model, the issue's "done when" command."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from tests.studio.conftest import cli_invoker
from tests.studio.fake_lyrics import ScriptedBackend, lyrics_backend  # noqa: F401 (fixture)

SONG = "Title: Rain\n\n[verse]\nrain on the window\ngrey on the glass\n\n[chorus]\nwe wait it out\nwe let it pass\n"


@pytest.fixture
def cli(studio_env):
    return cli_invoker()


@pytest.fixture
def worker_thread(studio_env):
    """A worker polling the queue in this process while the CLI waits."""
    from studio.service import Studio
    from studio.settings import load_settings
    from studio.worker import Worker

    studio = Studio.open(load_settings())
    worker = Worker(settings=studio.settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            if worker.run_next() is None:
                time.sleep(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(30)
    studio.db.dispose()


def test_draft_waits_and_prints_v1_text_and_the_model(cli, worker_thread, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend([SONG])
    result = cli("lyrics", "draft", "rain", "--structure", "verse,chorus", "--backend", "scripted", "--bpm", "90",
                 "--duration", "30")
    assert result.stdout == ("Title: Rain\n\n[verse]\nrain on the window\ngrey on the glass\n\n"
                             "[chorus]\nwe wait it out\nwe let it pass\n")
    assert "written by the scripted backend's model" in result.stderr


def test_draft_json_has_title_sections_model_and_report(cli, worker_thread, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend([SONG])
    data = json.loads(cli("lyrics", "draft", "rain", "--structure", "verse,chorus", "--backend", "scripted",
                          "--json").stdout)
    assert data["title"] == "Rain" and [s["tag"] for s in data["sections"]] == ["verse", "chorus"]
    assert data["sections"][1]["lines"] == ["we wait it out", "we let it pass"]
    assert data["quality"]["tag_exact"] is True and data["quality"]["targets"] == [[8, 8], [6, 6]]
    assert data["model"]["kind"] == "custom"


def test_rewrite_and_titles_from_a_file(cli, worker_thread, lyrics_backend, tmp_path):
    song = tmp_path / "song.txt"
    song.write_text(SONG, encoding="utf-8")
    lyrics_backend.backend = ScriptedBackend(["[chorus]\nthe sun comes out\nwe let it shine\n"])
    out = cli("lyrics", "rewrite", str(song), "--section", "chorus", "--instruction", "hopeful",
              "--backend", "scripted").stdout
    assert "[chorus]\nthe sun comes out\nwe let it shine" in out and "rain on the window" in out
    lyrics_backend.backend.chunks = ["- Glass Rain\n- Waiting\n"]  # the worker keeps its backend warm
    assert cli("lyrics", "titles", str(song), "--count", "2", "--backend", "scripted").stdout == "Glass Rain\nWaiting\n"


def test_no_wait_prints_the_job_id_and_bad_input_is_named(cli, lyrics_backend):
    lyrics_backend.backend = ScriptedBackend([SONG])
    job_id = cli("lyrics", "draft", "rain", "--backend", "scripted", "--no-wait").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{12}", job_id)
    assert "unknown section 'solo!'" in cli("lyrics", "draft", "rain", "--structure", "verse,solo!", "--backend",
                                            "scripted", code=2).output
    assert "give the lyrics as a file" in cli("lyrics", "titles", "--backend", "scripted", code=2).output
    assert "cannot read missing.txt" in cli("lyrics", "titles", "missing.txt", "--backend", "scripted", code=2).output


@pytest.mark.slow  # the real starter model writes 4 sections line by line: ~30 s of CPU on 2 cores
def test_done_when_the_starter_drafts_the_requested_structure(cli, worker_thread):
    pytest.importorskip("llama_cpp")
    from lyrics.quality import PromptCopyCheck
    from lyrics.starter import starter_gguf

    if starter_gguf() is None:
        pytest.skip("the starter model is not installed (scripts/setup installs it)")
    result = cli("lyrics", "draft", "leaving a small town at dawn", "--genre", "indie folk", "--mood", "wistful",
                 "--structure", "verse,chorus,verse,chorus", "--seed", "7", "--wait")
    body = result.stdout.split("\n\n", 1)[1]
    headers = [line for line in body.splitlines() if line.startswith("[")]
    assert headers == ["[verse]", "[chorus]", "[verse]", "[chorus]"]
    lines = [line for line in body.splitlines() if line and not line.startswith("[")]
    assert len(lines) == 16 and PromptCopyCheck(["leaving a small town at dawn", "indie folk", "wistful"]).copied(lines) == []
    assert "written by SmolLM2-135M-Instruct (starter)" in result.stderr
