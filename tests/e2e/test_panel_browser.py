"""#14 parts 2, 3 and 8 in headless Chromium: a waveform you can aim at (its band fills the chart,
a drag selects the region the repaint gets), the jobs panel on every page, every page at its own
address, Material icons in the sidebar. Screenshots of Create and Song go to `test-artifacts/`.

The studio runs for real (`songstudio serve`, UI and worker processes) with the sine-tone fake
engine: this proves geometry and wiring, not music.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, start_serve
from tests.e2e.editing_engine import TARGET
from tests.e2e.waveform_geometry import band_box, drag_across

pytestmark = [pytest.mark.browser, pytest.mark.network]

@pytest.fixture(scope="module")
def studio_server(tmp_path_factory):
    """The studio without a chain: only the pages and the queue are under test here."""
    with start_serve(tmp_path_factory.mktemp("panel-home"), tmp_path_factory.mktemp("panel-logs")) as running:
        yield running


def make_take(server, monkeypatch, *, duration: float = 6.0, steps: int = 2) -> int:
    """A finished take made by the server's worker (submitted here, as the UI would)."""
    monkeypatch.setenv("SONGSTUDIO_EXTRA_ENGINES", json.dumps({"fake": TARGET}))  # as the server has it
    service = server.service()
    job = service.submit_music(engine="fake", prompt="aim test tones", duration=duration, batch_size=1, seeds=[7],
                               steps=steps)
    finished = service.wait(job.id, timeout=120)
    assert finished.status == "done", finished.error
    (take,) = service.library.takes_of_job(job.id)
    return take.id


def test_song_waveform_fills_the_chart_and_a_drag_sets_the_repaint_region(studio_server, new_page, monkeypatch):
    take_id = make_take(studio_server, monkeypatch)
    page = new_page()
    page.goto(f"{studio_server.url}/song?take={take_id}")
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    expect(chart).to_be_visible()
    page.wait_for_timeout(800)  # Vega draws after the element appears
    box = chart.bounding_box()
    left, top, right, bottom = band_box(chart.screenshot())
    band_height = bottom - top + 1
    assert band_height >= 80  # a sine at 0.3 of full scale: the band is scaled to the take's peak
    assert band_height >= 0.6 * box["height"], (band_height, box)
    expect(chart.get_by_text("0:03")).to_be_attached()  # time in m:ss
    screenshot(page, "panel-song-waveform")

    drag_across(page, chart, 0.25, 0.5)  # from a quarter to a half of the take
    start = page.get_by_label("Region start (seconds)")
    end = page.get_by_label("Region end (seconds)")
    expect(start).not_to_have_value("0.0")
    service = studio_server.service()
    duration = service.library.get(take_id).duration
    got = float(start.input_value()), float(end.input_value())
    assert got[0] == pytest.approx(0.25 * duration, abs=0.3) and got[1] == pytest.approx(0.5 * duration, abs=0.3)
    expect(page.get_by_text(f"Repaints {got[0]:.1f} s to {got[1]:.1f} s", exact=False)).to_be_attached()
    screenshot(page, "panel-song-selected")

    # the repaint job gets exactly the numbers shown
    page.get_by_role("tab", name="Repaint region").click()
    page.get_by_role("button", name="Repaint", exact=True).click()
    expect(page.get_by_role("link", name=re.compile("New take"))).to_be_visible(timeout=90_000)
    (child,) = service.library.children(take_id)
    assert f'"region_start": {got[0]}' in child.parameters and f'"region_end": {got[1]}' in child.parameters

    # the Extend tab draws the seconds an extend adds (10 s after by default) beside the take
    page.get_by_role("tab", name="Extend").click()
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    expect(chart.get_by_text("0:14")).to_be_attached()
    screenshot(page, "panel-song-extend")


PAGES = {"/write": "Write", "/create": "Create", "/library": "Library", "/song": "Song", "/jobs": "Jobs",
         "/mint": "Mint", "/train": "Train", "/settings": "Settings"}


def test_every_page_has_its_own_address_and_the_sidebar_uses_material_icons(studio_server, new_page):
    page = new_page()
    for path, title in PAGES.items():
        page.goto(f"{studio_server.url}{path}")
        expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
        expect(page.get_by_text("Page not found")).to_have_count(0)
    page.goto(f"{studio_server.url}/?job=abc123")  # the old address of Create still works, query kept
    expect(page.get_by_role("heading", name="Create", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/create\?job=abc123$"))
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_test_id("stIconMaterial")).to_have_count(len(PAGES))
    labels = nav.get_by_role("link").all_inner_texts()
    assert all(not re.search("[\U0001F300-\U0001FAFF\u2600-\u27BF]", label) for label in labels), labels


def test_two_jobs_on_create_both_show_progress_and_one_is_cancelled_from_the_sidebar(studio_server, new_page):
    page = new_page()
    page.goto(f"{studio_server.url}/create")
    page.get_by_text("Advanced settings").click()  # 30 steps of 0.4 s: the first job outlasts the second's submit
    page.get_by_role("spinbutton", name=re.compile("^Steps")).fill("30")
    sidebar = page.get_by_test_id("stSidebar")
    for prompt in ("first of two", "second of two"):
        page.get_by_role("textbox", name="Style prompt").fill(prompt)
        page.get_by_role("button", name="Generate").click()
        expect(page.get_by_text(re.compile("Queued|Running")).first).to_be_visible()
        # Generate reruns only Create's own panel; the sidebar finds the new job by polling
        expect(sidebar.get_by_text(prompt)).to_be_visible(timeout=5_000)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("progressbar")).to_have_count(2)
    screenshot(page, "panel-create-two-jobs")
    service = studio_server.service()
    newest = service.jobs.list(limit=1)[0]
    assert json.loads(newest.spec)["request"]["prompt"] == "second of two"
    sidebar.get_by_test_id("stButton").filter(has_text="Cancel").last.click()  # the queued one: listed last
    expect(main.get_by_text("Cancelled. Nothing was added to the library.")).to_be_visible(timeout=60_000)
    assert service.jobs.get(newest.id).status == "cancelled"
    expect(page.locator("audio")).to_have_count(2, timeout=120_000)  # the other job's takes
    screenshot(page, "panel-create-after-cancel")


def test_the_lyric_meter_follows_the_lyrics_before_generate(studio_server, new_page):
    page = new_page()
    page.goto(f"{studio_server.url}/create")
    page.get_by_role("combobox", name="Start from an example").click()
    page.get_by_role("option", name="Lighthouse ballad").click()
    lyrics = page.get_by_role("textbox", name="Lyrics")
    expect(lyrics).to_have_value(re.compile(r"^\[verse\]\na lighthouse in the rain"))
    expect(page.get_by_text(re.compile(r"8 sung lines · .*about \d+ s to sing at 100 bpm, for a 60 s song"))).to_be_visible()
    lyrics.fill("[verse]\n" + "\n".join(["every word I ever knew is in this line"] * 30))
    lyrics.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"The words take about \d+ s to sing but the song is 60 s"))).to_be_visible()
    screenshot(page, "panel-create-meter")
