"""The UI's plain-data rules: the Create form, the Song page's edit requests, progress text, waveform."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from music.engine import RequestError
from music.registry import engines
from studio.ui import edits
from studio.ui.create_form import (
    INSTRUMENTAL_LYRICS,
    Advanced15,
    AdvancedV1,
    CreateForm,
    build_request,
    form_from_request,
    parse_seed_text,
)
from studio.ui.presets import compose_prompt
from studio.ui.waveform import Envelope, envelope_frame, waveform_chart


def test_seeds_one_for_all_or_one_per_take():
    assert parse_seed_text("42", 3) == [42, 42, 42]
    assert parse_seed_text("1, 2;3", 3) == [1, 2, 3]
    with pytest.raises(RequestError, match="2 seeds for 3 takes"):
        parse_seed_text("1,2", 3)
    with pytest.raises(RequestError, match="not a whole number"):
        parse_seed_text("-5", 1)
    with pytest.raises(RequestError, match="too large"):
        parse_seed_text(str(2**32), 1)
    with pytest.raises(RequestError, match="at least one seed"):
        parse_seed_text(" ", 1)


def test_random_seeds_are_explicit_and_differ():
    request = build_request(CreateForm(prompt="pop", takes=4))
    assert len(request.seeds) == 4 and request.batch_size == 4
    assert len(set(request.seeds)) > 1  # 4 draws from 2**32 colliding entirely is not a realistic event


def test_instrumental_replaces_lyrics_and_prompt_is_needed():
    request = build_request(CreateForm(prompt="ambient", lyrics="[verse]\nla la", instrumental=True, takes=1))
    assert request.lyrics == INSTRUMENTAL_LYRICS
    with pytest.raises(RequestError, match="prompt"):
        build_request(CreateForm(prompt=" ", lyrics=" "))
    with pytest.raises(RequestError, match="takes must be between 1 and 4"):
        build_request(CreateForm(prompt="x", takes=5))


def test_engine_options_go_only_to_their_engine_family():
    v1 = build_request(CreateForm(prompt="x", engine="ace-step-v1", v1=AdvancedV1(scheduler_type="heun", omega_scale=5)))
    assert v1.options["scheduler_type"] == "heun" and v1.options["omega_scale"] == 5
    assert "bpm" not in v1.options
    v15 = build_request(CreateForm(prompt="x", engine="ace-step-1.5", v15=Advanced15(bpm=120, keyscale=None)))
    assert v15.options == {"bpm": 120}
    assert build_request(CreateForm(prompt="x", engine="fake")).options == {}


def test_use_these_settings_round_trip_locks_the_take_seed():
    original = build_request(CreateForm(prompt="jazz", lyrics="[verse]\nhello", duration=42, engine="ace-step-v1",
                                        takes=2, steps=30, v1=AdvancedV1(cfg_type="cfg", use_erg_lyric=True)))
    form = form_from_request(original.to_dict(), engine="ace-step-v1", seed=original.seeds[1])
    assert (form.prompt, form.lyrics, form.duration, form.steps) == ("jazz", "[verse]\nhello", 42, 30)
    assert form.lock_seeds and form.seeds_text == str(original.seeds[1]) and form.takes == 1
    assert form.v1.cfg_type == "cfg" and form.v1.use_erg_lyric is True
    again = build_request(form)
    assert again.seeds == [original.seeds[1]] and again.options == original.options


def test_v1_fast_modes_are_sent_only_when_on_and_come_back_with_use_these_settings():
    plain = build_request(CreateForm(prompt="x", engine="ace-step-v1"))
    assert "fast_modes" not in plain.options and "step_cache_threshold" not in plain.options
    assert form_from_request(plain.to_dict(), engine="ace-step-v1").v1 == AdvancedV1()
    int8 = build_request(CreateForm(prompt="x", engine="ace-step-v1", v1=AdvancedV1(fast_int8=True)))
    assert int8.options["fast_modes"] == ["int8"] and "step_cache_threshold" not in int8.options
    both = build_request(CreateForm(prompt="x", engine="ace-step-v1",
                                    v1=AdvancedV1(fast_int8=True, fast_step_cache=True, step_cache_threshold=0.2)))
    assert both.options["fast_modes"] == ["int8", "step-cache"] and both.options["step_cache_threshold"] == 0.2
    form = form_from_request(both.to_dict(), engine="ace-step-v1")
    assert form.v1.fast_int8 and form.v1.fast_step_cache and form.v1.step_cache_threshold == 0.2
    assert build_request(form).options == both.options


def test_compose_prompt_merges_presets_without_duplicates():
    assert compose_prompt("Dreamy, synth", genres=["synthwave"], moods=["dreamy"], instruments=["piano"]) == \
        "Dreamy, synth, synthwave, piano"


SOURCE = edits.Source(engine="ace-step-v1", prompt="rock", lyrics="[verse]\nla", duration=30.0, seed=7,
                      master_path="/lib/master.flac", request={"steps": 27, "options": {"cfg_type": "cfg"}})


def test_repaint_request_carries_region_source_and_variance():
    request = edits.repaint(SOURCE, start=5, end=12.5, variance=0.3)
    assert (request.task, request.region_start, request.region_end, request.source_audio) == \
        ("repaint", 5.0, 12.5, "/lib/master.flac")
    assert request.seeds == [7] and request.steps == 27
    assert request.options == {"cfg_type": "cfg", "retake_variance": 0.3}
    for start, end in ((12, 5), (0, 31), (-1, 3), (4, 4)):
        with pytest.raises(RequestError, match="region"):
            edits.repaint(SOURCE, start=start, end=end, variance=0.2)


def test_extend_grows_the_song_and_caps_it():
    request = edits.extend(SOURCE, left=5, right=10)
    assert (request.region_start, request.region_end, request.duration) == (-5.0, 40.0, 45.0)
    with pytest.raises(RequestError, match="240"):
        edits.extend(SOURCE, left=0, right=215)
    with pytest.raises(RequestError, match="positive"):
        edits.extend(SOURCE, left=0, right=0)


def test_edit_and_retake_and_audio2audio():
    request = edits.edit(SOURCE, prompt="rock", lyrics="[verse]\nnew words", mode="only_lyrics",
                            presets=engines.presets("ace-step-v1"))
    assert request.options["edit_target_lyrics"] == "[verse]\nnew words"
    assert (request.options["edit_n_min"], request.options["edit_n_max"]) == (0.6, 1.0)
    with pytest.raises(RequestError, match="nothing to change"):
        edits.edit(SOURCE, prompt="rock", lyrics="[verse]\nla", mode="remix", presets=engines.presets("ace-step-v1"))
    retake = edits.retake(SOURCE, variance=0.5, takes=2)
    assert retake.seeds == [7, 7] and len(retake.options["retake_seeds"]) == 2
    with pytest.raises(RequestError, match="variance"):
        edits.retake(SOURCE, variance=1.5)
    a2a = edits.audio2audio(SOURCE, reference_path="/ref.wav", strength=0.4)
    assert (a2a.task, a2a.reference_audio, a2a.reference_strength) == ("audio2audio", "/ref.wav", 0.4)


def test_non_v1_engines_get_no_upstream_option_names():
    other = edits.Source(**{**SOURCE.__dict__, "engine": "fake"})
    assert edits.repaint(other, start=1, end=2, variance=0.2).options == {}


def test_progress_lines():
    from studio.records import JobView
    from studio.ui.progress import describe, fraction

    def job(**kw):
        base = dict(id="j", kind="music", status="queued", stage="queued", step=0, total=0, position=3, error=None,
                    cancel_requested=False, result={}, created_at=datetime.now(timezone.utc))
        return JobView(**{**base, **kw})

    assert describe(job()) == "Queued: #3 in queue"
    assert describe(job(position=1)) == "Queued: next to run"
    running = job(status="running", stage="diffusion", step=3, total=8, position=None)
    assert describe(running) == "Running: diffusion, step 3/8" and fraction(running) == 3 / 8
    assert describe(job(status="running", cancel_requested=True)).startswith("Cancelling")
    assert describe(job(status="failed", error="out of memory")) == "Failed: out of memory"


def test_envelope_thinning_keeps_extremes():
    mins = [0.0] * 5000
    maxs = [0.0] * 5000
    mins[1234], maxs[4321] = -0.9, 0.8
    frame = envelope_frame(Envelope(mins=mins, maxs=maxs, duration=10.0), max_points=1000)
    assert len(frame) == 1000
    assert frame["lo"].min() == -0.9 and frame["hi"].max() == 0.8
    assert frame["t"].iloc[-1] == 10.0
    chart = waveform_chart(Envelope(mins=[-0.1, -0.2], maxs=[0.1, 0.2], duration=2.0), region=(0.5, 1.0))
    assert len(chart.layer) == 2
    with pytest.raises(ValueError, match="minima"):
        Envelope(mins=[0.0], maxs=[], duration=1.0)
