"""#14's whole session in headless Chromium: write, edit a section and the title, reload (all kept),
create two jobs (both visible with progress), cancel one, open the finished take (named after the
song; its waveform band fills at least 60 % of the chart's height), select a region on the chart,
repaint it, reload. A screenshot of each step goes to `test-artifacts/session-*.png`.

The studio runs for real (`songstudio serve`, UI and worker processes) with the sine-tone fake
engine (a tone scaled to 0.3 of full scale; the chart scales the band to the take's peak): this
proves the wiring and the geometry, not the music.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, settle, start_serve
from tests.e2e.editing_engine import TARGET
from tests.e2e.test_studio_browser import fill_form
from tests.e2e.waveform_geometry import band_box, drag_across

pytestmark = [pytest.mark.browser, pytest.mark.network]

VERSE = "first light on the road\nthe town still asleep"
VERSE_EDITED = "first light on the long road\nthe town still asleep"
CHORUS = "we drive into the dawn"


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory):
    with start_serve(tmp_path_factory.mktemp("session-home"), tmp_path_factory.mktemp("session-logs")) as running:
        yield running


def saved_version(page) -> int:
    text = page.get_by_text(re.compile(r"^Saved: version \d+$")).inner_text()
    return int(text.rsplit(" ", 1)[1])


def test_one_whole_session(studio_server, new_page, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_EXTRA_ENGINES", json.dumps({"fake": TARGET}))  # as the server has it
    service = studio_server.service()
    page = new_page()

    # 1. Write: a title, two sections, then an edit of the first. Each change is saved as it is made.
    page.goto(f"{studio_server.url}/write")
    expect(page.get_by_role("heading", name="Write", level=1)).to_be_visible()
    title = page.get_by_role("textbox", name="Title")
    title.fill("Dawn Road")
    title.press("Tab")
    lines = page.get_by_label("Lines")
    lines.first.fill(VERSE)
    lines.first.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"^Saved: version [2-9]"))).to_be_visible()
    page.get_by_role("button", name="Add section").click()
    expect(lines).to_have_count(2)
    lines.nth(1).fill(CHORUS)
    lines.nth(1).press("Control+Enter")
    lines.first.fill(VERSE_EDITED)  # edit a section
    lines.first.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"^Saved: version [4-9]"))).to_be_visible()
    settle(page)
    song_id = int(re.search(r"[?&]song=(\d+)", page.url).group(1))
    screenshot(page, "session-01-write")

    # 2. Reload: everything typed is back, from the library (a new browser session).
    page.reload()
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Dawn Road")
    expect(page.get_by_label("Lines")).to_have_count(2)
    expect(page.get_by_label("Lines").first).to_have_value(VERSE_EDITED)
    expect(page.get_by_label("Lines").nth(1)).to_have_value(CHORUS)
    song = service.songs.get(song_id)
    assert song.title == "Dawn Road" and [s.text for s in song.draft.sections] == [VERSE_EDITED, CHORUS]
    screenshot(page, "session-02-reloaded")

    # 3. Create: the song comes along; two jobs, both shown with their progress.
    page.get_by_role("button", name="Send to Create").click()
    expect(page.get_by_role("heading", name="Create", level=1)).to_be_visible()
    expect(page.get_by_text("Song: Dawn Road", exact=False)).to_be_visible()
    expect(page.get_by_role("textbox", name="Lyrics")).to_have_value(re.compile(r"^\[verse\]\nfirst light on the long"))
    page.get_by_text("Advanced settings").click()
    page.get_by_role("spinbutton", name=re.compile("^Steps")).fill("30")  # 30 steps of 0.4 s: time to look
    fill_form(page, "folk, warm, acoustic guitar")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text(re.compile("Queued|Running")).first).to_be_visible()
    page.get_by_role("textbox", name="Style prompt").fill("folk, warm, second try")
    page.get_by_role("button", name="Generate").click()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("progressbar")).to_have_count(2)
    screenshot(page, "session-03-two-jobs")
    first_job, second_job = service.jobs.list(limit=2)[::-1]
    assert {service.song_of_job(first_job.id), service.song_of_job(second_job.id)} == {song_id}

    # 4. Cancel the second (still queued behind the first) from the jobs panel.
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stButton").filter(has_text="Cancel").last.click()
    expect(main.get_by_text("Cancelled. Nothing was added to the library.")).to_be_visible(timeout=60_000)
    assert service.jobs.get(second_job.id).status == "cancelled"
    expect(page.locator("audio")).to_have_count(2, timeout=120_000)  # the first job's two takes
    screenshot(page, "session-04-cancelled-and-done")

    # 5. Open the finished take: named after the song; the waveform fills its chart.
    take_names = [t.title for t in service.takes_of_job(first_job.id)]
    assert take_names == ["Dawn Road · take 1", "Dawn Road · take 2"]
    main.get_by_role("link", name="Open").first.click()
    expect(page.get_by_role("heading", name="Dawn Road · take 1", level=1)).to_be_visible()
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    expect(chart).to_be_visible()
    page.wait_for_timeout(800)  # Vega draws after the element appears
    box = chart.bounding_box()
    left, top, right, bottom = band_box(chart.screenshot())
    assert bottom - top + 1 >= 0.6 * box["height"], (top, bottom, box)
    screenshot(page, "session-05-take")

    # 6. Select a region on the chart: drag from a quarter to a half of the take.
    drag_across(page, chart, 0.25, 0.5)
    start = page.get_by_label("Region start (seconds)")
    expect(start).not_to_have_value("0.0")
    region = float(start.input_value()), float(page.get_by_label("Region end (seconds)").input_value())
    assert 0 < region[0] < region[1]
    screenshot(page, "session-06-region")

    # 7. Repaint it: a new take of the same song, named by what made it.
    page.get_by_role("tab", name="Repaint region").click()
    page.get_by_role("button", name="Repaint", exact=True).click()
    new_take = page.get_by_role("link", name=re.compile("New take: Dawn Road · repaint"))
    expect(new_take).to_be_visible(timeout=120_000)
    (parent,) = [t for t in service.takes_of_job(first_job.id) if t.made_by == "take 1"]
    (child,) = service.children(parent.id)
    assert child.song_id == song_id and child.title.startswith("Dawn Road · repaint 0:")
    screenshot(page, "session-07-repainted")

    # 8. Reload: the take, the repaint job's result and the song are all still there.
    page.reload()
    expect(page.get_by_role("heading", name="Dawn Road · take 1", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("New take: Dawn Road · repaint"))).to_be_visible()
    page.goto(f"{studio_server.url}/library")
    expect(page.get_by_role("link", name=re.compile("Dawn Road · repaint"))).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_text(re.compile(r"^3 takes · version"))).to_be_visible()
    settle(page)
    screenshot(page, "session-08-library-after-reload")
