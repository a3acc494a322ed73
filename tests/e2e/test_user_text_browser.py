"""#14 part 6 in headless Chromium: user text is text. A title, prompt, lyrics and tags holding
Markdown and HTML that point at a local HTTP server are shown as those characters on every page,
and the browser never asks that server for anything.

The studio runs for real (`songstudio serve`, UI and worker processes) with the sine-tone fake
engine; the trap is a plain HTTP server on 127.0.0.1 that records every request it gets.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, settle, start_serve
from tests.e2e.editing_engine import TARGET

pytestmark = [pytest.mark.browser, pytest.mark.network]


def visible_text(page) -> str:
    """The page's text as a reader sees it (invisible word joiners dropped)."""
    return page.evaluate("document.body.innerText").replace("\u2060", "")


@pytest.fixture(scope="module")
def trap():
    """A local HTTP server that records the path of every request (and answers 404)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory):
    with start_serve(tmp_path_factory.mktemp("text-home"), tmp_path_factory.mktemp("text-logs")) as running:
        yield running


def test_user_text_is_never_markdown_or_html_and_no_page_fetches_from_it(studio_server, trap, new_page,
                                                                          monkeypatch):
    base, hits = trap
    title = f"![t]({base}/title.png) <img src=\"{base}/title-html.png\"> **bold**"
    prompt = f"![p]({base}/prompt.png) [link]({base}/prompt-link) <img src=\"{base}/prompt-html.png\">"
    lyrics = f"[verse]\n![l]({base}/lyrics.png)\n<img src=\"{base}/lyrics-html.png\">"
    monkeypatch.setenv("SONGSTUDIO_EXTRA_ENGINES", json.dumps({"fake": TARGET}))  # as the server has it
    service = studio_server.service()
    song = service.songs.create(title=title)
    job = service.submit_music(song_id=song.id, engine="fake", prompt=prompt, lyrics=lyrics, duration=2.0,
                               seeds=[1], steps=2, tags=[f"![tag]({base}/tag.png)"])
    finished = service.wait(job.id, timeout=120)
    assert finished.status == "done", finished.error
    (take,) = service.takes_of_job(job.id)
    assert take.title.startswith(title)
    service.songs.save(song.id, notes=f"![n]({base}/notes.png)")

    page = new_page()
    pages = {
        "library-songs": "/library",
        "song": f"/song?take={take.id}",
        "mint": f"/mint?take={take.id}",
        "write": f"/write?song={song.id}",
        "create": f"/create?song={song.id}&job={job.id}",
    }
    for name, path in pages.items():
        page.goto(f"{studio_server.url}{path}")
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        settle(page)
        page.wait_for_timeout(1500)  # images would be requested as soon as they are drawn
        screenshot(page, f"user-text-{name}")
        assert hits == [], f"{name} page fetched {hits}"
        if name != "write":  # Write shows the title in its text box (a value, not rendered)
            assert f"![t]({base}/title.png)" in visible_text(page)
        assert page.locator(f"a[href^='{base}']").count() == 0  # and no link made from it

    page.goto(f"{studio_server.url}/library")
    page.get_by_role("radio", name="All takes").or_(page.get_by_text("All takes", exact=True)).first.click()
    settle(page)
    page.wait_for_timeout(1500)
    assert f"![t]({base}/title.png)" in visible_text(page)
    screenshot(page, "user-text-library-takes")
    assert hits == [], f"the library's take list fetched {hits}"
    assert page.locator("img[src*='127.0.0.1']").count() == 0
    assert page.locator(f"a[href^='{base}']").count() == 0
