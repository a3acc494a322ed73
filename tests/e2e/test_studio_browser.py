"""The studio in headless Chromium: write → create two takes → progress → play → library → repaint
a region → download MP3 → mint on anvil → token id; and two browser sessions generating at once.

Runs the real `songstudio serve` (Streamlit + worker processes). The engine is the editing fake
(sine tones): these tests prove the wiring, not the music.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.network]


def only_local_requests(page) -> list[str]:
    """Collects every request the page makes that does not go to 127.0.0.1."""
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if urlsplit(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith(("data:", "blob:"))
            else None)
    return outside


def open_page(page, server, path: str) -> None:
    page.goto(f"{server.url}{path}")
    expect(page.get_by_role("heading", level=1).first).to_be_visible()


def fill_form(page, prompt: str) -> None:
    page.get_by_role("textbox", name="Style prompt").fill(prompt)
    slider = page.get_by_role("slider").first  # duration: the 1 s minimum, then up to 5 s
    slider.focus()
    slider.press("Home")
    for _ in range(4):  # 5 s
        slider.press("ArrowRight")


def generate(page, prompt: str) -> None:
    fill_form(page, prompt)
    page.get_by_role("button", name="Generate").click()


def job_id_of(page) -> str:
    expect(page).to_have_url(re.compile(r"[?&]job=\w+"))
    return re.search(r"[?&]job=(\w+)", page.url).group(1)


def test_write_create_play_library_repaint_download_mint(server, chain, new_page):
    page = new_page()
    outside = only_local_requests(page)

    # Write: edit a section, see syllable / rhyme hints, send the lyrics to Create.
    open_page(page, server, "/write")
    lines = page.get_by_label("Lines").first
    lines.fill("a lighthouse in the rain\nI wait here for the train")
    lines.press("Control+Enter")
    expect(page.locator("[data-testid=stCode]").first).to_have_text(re.compile(r"^\s*\d+ A\s+\d+ A\s*$"))
    screenshot(page, "write")
    page.get_by_role("button", name="Send to Create").click()
    expect(page.get_by_role("heading", name="Create")).to_be_visible()
    expect(page.get_by_role("textbox", name="Lyrics")).to_have_value(re.compile(r"^\[verse\]\na lighthouse in the rain"))

    # Create: two takes; progress while it runs; both takes with a waveform and a player.
    generate(page, "lighthouse ballad, piano")
    main = page.get_by_test_id("stMain")  # the sidebar's jobs panel shows the same job too
    expect(main.get_by_text(re.compile(r"Queued|Running: (load|diffusion)"))).to_be_visible()
    expect(main.get_by_text(re.compile(r"Running: diffusion, step \d+/8"))).to_be_visible()
    screenshot(page, "create-progress")
    job = job_id_of(page)
    audio = page.locator("audio")
    expect(audio).to_have_count(2, timeout=90_000)
    expect(page.locator("[data-testid=stVegaLiteChart]")).to_have_count(2)
    screenshot(page, "create-takes")

    # Play: the browser loads the MP3 preview and plays it.
    duration = page.evaluate("""async () => {
        const a = document.querySelector('audio');
        if (isNaN(a.duration)) await new Promise(r => a.addEventListener('loadedmetadata', r, {once: true}));
        await a.play();
        await new Promise(r => setTimeout(r, 600));
        return [a.duration, a.currentTime];
    }""")
    assert duration[0] == pytest.approx(5.0, abs=0.2) and duration[1] > 0

    # Reload: the job id in the URL brings the same takes back.
    page.reload()
    expect(page.locator("audio")).to_have_count(2)

    # Library: find the takes by a word of the prompt, open one.
    page.get_by_role("link", name="Library").click()
    page.get_by_label("Search songs").fill("lighthouse")  # the song: named by its first job's prompt
    page.get_by_label("Search songs").press("Enter")
    expect(page.get_by_test_id("stMain").get_by_text(re.compile(r"^2 takes · version"))).to_be_visible()
    screenshot(page, "library")
    page.get_by_role("link", name="lighthouse ballad, piano · take 1").click()

    # Song: type the region 1.0-2.0 s as exact numbers (a drag on the waveform: test_panel_browser.py), repaint it.
    expect(page.get_by_role("heading", name="lighthouse ballad, piano · take 1")).to_be_visible()
    for label, value in (("Region start (seconds)", "1.0"), ("Region end (seconds)", "2.0")):
        box = page.get_by_label(label)
        box.fill(value)
        box.press("Enter")
        expect(box).to_have_value(value)
    page.get_by_role("tab", name="Repaint region").click()
    expect(page.get_by_text("Repaints 1.0 s to 2.0 s")).to_be_visible()
    page.get_by_role("button", name="Repaint", exact=True).click()
    expect(page.get_by_role("link", name=re.compile("New take"))).to_be_visible(timeout=90_000)
    screenshot(page, "song")

    service = server.service()
    (original,) = [t for t in service.library.takes_of_job(job) if t.take_index == 0]
    (child,) = service.library.children(original.id)
    params = child.parameters
    assert child.task == "repaint" and '"region_start": 1.0' in params and '"region_end": 2.0' in params

    # Download the MP3 320 of the original take.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="MP3 320").click()
    download = download_info.value
    assert download.suggested_filename.endswith(f"-{original.id}.mp3")
    data = open(download.path(), "rb").read()
    assert data[:3] == b"ID3" and data == service.library.path(original, "mp3").read_bytes()

    # Mint on anvil: sign, send, token id.
    page.get_by_role("link", name="Sign and mint this take").click()
    expect(page.get_by_role("heading", name="Mint")).to_be_visible()
    chain_info, _ = chain
    page.get_by_role("textbox", name="Wallet address (receives the token)").fill(chain_info.wallet)
    page.get_by_role("button", name="Sign authorization").click()
    expect(page.get_by_text(re.compile("Signed by 0x"))).to_be_visible()
    # the authorization's deadline as a date, not a unix time (#14 part 8)
    expect(page.get_by_text(re.compile(r"valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in \d+ (min|h)\)"))).to_be_visible()
    page.get_by_role("button", name="Mint", exact=True).click()
    expect(page.get_by_text(re.compile(r"Minted token 1 \(transaction 0x[0-9a-f]{64}\)"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Mint state: minted: token 1"))).to_be_visible()
    screenshot(page, "mint")

    # Settings: engines, models, chain, keystores.
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_text("signer: 0x")).to_be_visible()
    page.get_by_role("button", name=re.compile("Run .*doctor")).click()
    expect(page.locator("[data-testid=stCode]")).to_contain_text("data home", timeout=120_000)
    screenshot(page, "settings")

    assert outside == [], f"requests left the machine: {outside}"


def test_two_sessions_generate_at_once_and_finish_in_order(server, new_page):
    first, second = new_page(), new_page()
    open_page(first, server, "/")
    open_page(second, server, "/")
    fill_form(first, "first session song")
    first.get_by_text("Advanced settings").click()  # a longer first job: the second must wait for it
    first.get_by_role("spinbutton", name="Steps (0 = engine default)").fill("30")
    fill_form(second, "second session song")
    first.get_by_role("button", name="Generate").click()
    first_job = job_id_of(first)
    second.get_by_role("button", name="Generate").click()
    second_job = job_id_of(second)
    # while the first runs, the second waits its turn
    expect(second.get_by_test_id("stMain").get_by_text(re.compile(r"Queued: (next to run|#\d+ in queue)"))).to_be_visible()
    screenshot(second, "create-queued")
    expect(first.locator("audio")).to_have_count(2, timeout=90_000)
    expect(second.locator("audio")).to_have_count(2, timeout=90_000)

    service = server.service()
    a, b = service.jobs.get(first_job), service.jobs.get(second_job)
    assert a.status == b.status == "done"
    assert a.finished_at <= b.started_at  # one worker, first come first served
