"""The Write page drafts real lyrics with the starter model (SmolLM2-135M, no Song-Stream
weights): the requested structure with exact tags, dictionary words, no copied request, and the
page says which model wrote the draft. Slow: the worker writes line by line on a 2-core machine."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, settle, start_serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def starter_server(tmp_path_factory):
    pytest.importorskip("llama_cpp", reason="the llama extra is not installed")
    from lyrics.starter import starter_gguf

    if starter_gguf() is None:
        pytest.skip("the starter model is not installed (scripts/setup installs it)")
    options = {"llama-cpp": {"n_threads": 1, "n_ctx": 2048}}  # no model_path: the studio picks the starter
    with start_serve(tmp_path_factory.mktemp("starter-home"), tmp_path_factory.mktemp("starter-logs"),
                     SONGSTUDIO_LYRICS_BACKEND="llama-cpp", SONGSTUDIO_LYRICS_OPTIONS=json.dumps(options)) as running:
        yield running


def test_write_drafts_real_lyrics_with_the_starter(starter_server, new_page):
    import pronouncing

    from lyrics.prosody import words
    from lyrics.quality import PromptCopyCheck

    page = new_page()
    page.goto(f"{starter_server.url}/write")
    theme = "leaving a small town at dawn"
    page.get_by_role("textbox", name="Theme").fill(theme)
    page.get_by_role("combobox", name="Structure").click()
    page.get_by_role("option", name="verse, chorus", exact=True).click()
    page.get_by_role("button", name="Write lyrics").click()
    lines = page.get_by_role("textbox", name="Lines")
    expect(lines.first).to_have_value(re.compile(r"\S"), timeout=600_000)
    settle(page)
    expect(lines).to_have_count(2)
    expect(page.get_by_text(re.compile("Written by SmolLM2-135M-Instruct"))).to_be_visible()
    screenshot(page, "write-starter")
    texts = [lines.nth(i).input_value() for i in range(2)]
    sung = [line for text in texts for line in text.splitlines() if line.strip()]
    assert len(sung) == 8
    found = [w.lower() for line in sung for w in words(line)]
    assert sum(bool(pronouncing.phones_for_word(w)) for w in found) / len(found) >= 0.75, sung
    assert PromptCopyCheck([theme]).copied(sung) == []
    (job,) = starter_server.service().jobs.list()
    result = json.loads(job.result)
    assert result["lyrics"].startswith("[verse]\n") and "\n[chorus]\n" in result["lyrics"]
    assert result["model"]["kind"] == "starter"
