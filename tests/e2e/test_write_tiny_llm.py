"""Write lyrics in the browser with a tiny random-weight Llama (llama.cpp, GGUF built at test time).

Slow: the worker drafts with grammar-constrained sampling, which took 1.5 to 3 minutes on the
busy 2-core machine. The words are noise (random weights); the test proves the chain page → job
→ worker → llama.cpp → parsed sections in the editor.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, settle, start_serve

pytestmark = [pytest.mark.browser, pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope="module")
def lyrics_server(tmp_path_factory):
    pytest.importorskip("llama_cpp", reason="the llama extra is not installed")
    from lyrics.gguf_export import export_llama_gguf
    from tests.lyrics.tiny_llama import build_tiny_llama

    models = tmp_path_factory.mktemp("tiny-llm")
    gguf = export_llama_gguf(build_tiny_llama(models / "hf"), models / "tiny.gguf")
    options = {"llama-cpp": {"model_path": str(gguf), "n_ctx": 2048}}
    with start_serve(tmp_path_factory.mktemp("lyrics-home"), tmp_path_factory.mktemp("lyrics-logs"),
                     SONGSTUDIO_LYRICS_BACKEND="llama-cpp", SONGSTUDIO_LYRICS_OPTIONS=json.dumps(options)) as running:
        yield running


def test_write_lyrics_with_a_tiny_llm(lyrics_server, new_page):
    page = new_page()
    page.goto(f"{lyrics_server.url}/write")
    page.get_by_role("textbox", name="Theme").fill("a lighthouse keeper's last night")
    page.get_by_role("combobox", name="Structure").click()
    page.get_by_role("option", name="verse, chorus", exact=True).click()
    page.get_by_role("combobox", name="Length").click()
    page.get_by_role("option", name="short").click()
    page.get_by_role("button", name="Write lyrics").click()
    expect(page.get_by_text("Running: lyrics")).to_be_visible()
    lines = page.get_by_role("textbox", name="Lines")
    expect(lines.first).to_have_value(re.compile(r"\S"), timeout=420_000)  # the editor starts empty
    settle(page)
    expect(lines).to_have_count(2)  # verse, chorus
    expect(lines.nth(1)).to_have_value(re.compile(r"\S"))
    screenshot(page, "write-tiny-llm")
    (job,) = lyrics_server.service().jobs.list()
    assert job.kind == "lyrics" and job.status == "done"
    assert json.loads(job.result)["lyrics"].startswith("[verse]")
