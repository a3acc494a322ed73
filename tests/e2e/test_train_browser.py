"""Train an adapter in the browser on the demo models, then try it on Create (tiny random
weights: the test proves page -> train job -> worker -> adapter -> Create -> take, never quality)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, settle, start_serve
from tests.music.training.clip_files import three_clips

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    from studio.demo_models import demo_settings_env

    env = demo_settings_env(tmp_path_factory.mktemp("models"))
    with start_serve(tmp_path_factory.mktemp("train-home"), tmp_path_factory.mktemp("train-logs"),
                     SONGSTUDIO_ENGINE="ace-step-v1", **env) as running:
        yield running


def test_train_on_the_page_then_try_it_on_create(demo_server, new_page, tmp_path):
    clips = sorted(p for p in three_clips(tmp_path / "clips").iterdir() if p.suffix in (".wav", ".flac"))
    page = new_page()
    page.goto(f"{demo_server.url}/train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    page.get_by_role("textbox", name="Adapter name").fill("mine")
    page.locator("input[type=file]").set_input_files([str(p) for p in clips])
    tags = page.get_by_role("textbox", name="Tags")
    expect(tags).to_have_count(3)
    for i in range(3):
        tags.nth(i).fill(f"pop, synth, take {i}")
    page.get_by_role("spinbutton", name="Rank").fill("4")
    page.get_by_role("spinbutton", name="Steps").fill("3")
    page.get_by_role("spinbutton", name="Steps").press("Tab")
    settle(page)
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text(re.compile(r"Step \d/3, loss"))).to_be_visible(timeout=300_000)
    screenshot(page, "train-progress")
    expect(page.get_by_text("Adapter ready")).to_be_visible(timeout=300_000)
    expect(page.get_by_text(re.compile(r"^mine: loss [\d.]+ -> [\d.]+ in 3 steps$"))).to_be_visible()
    screenshot(page, "train-done")

    page.get_by_role("button", name="Try it on Create").click()
    expect(page.get_by_role("heading", name="Create")).to_be_visible()
    settle(page)
    page.get_by_role("textbox", name="Style prompt").fill("pop, synth")
    slider = page.get_by_role("slider").first  # duration: 2 s
    slider.focus()
    slider.press("Home")
    slider.press("ArrowRight")
    page.get_by_text("Advanced settings").click()
    page.get_by_role("spinbutton", name="Steps (0 = engine default)").fill("2")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("audio").first).to_be_attached(timeout=300_000)
    screenshot(page, "train-try-on-create")

    service = demo_server.service()
    adapter = service.adapters.get("mine")
    takes = service.adapters.takes_with("mine")
    assert takes  # Create's takes, each with the adapter's digest in its parameters
    for take in takes:
        recorded = json.loads(take.parameters)
        assert recorded["adapter"]["weights_digest"] == adapter.weights_digest
        assert recorded["request"]["lora_weight"] == 1.0
    assert [c["label"] for c in json.loads(service.jobs.get(adapter.job_id).spec)["clips"]] == [p.name for p in clips]
