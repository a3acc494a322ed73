"""Every task end to end on tiny random checkpoints loaded through the engine's real loading code."""

from __future__ import annotations

import json

import numpy as np
import pytest

import music.acestep15.engine as acestep15_engine
from music.acestep15.request_mapping import plan_call
from music.engine import CheckedRequest, MusicRequest
from music.registry import engines

SR = 48000
FAST = 2  # denoising steps: enough to exercise the loop, cheap on 2 CPU cores


def check_takes(result, *, samples: int, batch: int = 1) -> None:
    assert result.sample_rate == SR
    assert result.engine == "ace-step-1.5"
    assert len(result.takes) == batch
    for take in result.takes:
        assert take.audio.dtype == np.float32
        assert take.audio.shape == (2, samples)
        assert np.isfinite(take.audio).all()
        # the pipeline normalises to -1 dBFS; a silent or clipped take means broken wiring
        assert 0.5 < np.abs(take.audio).max() <= 1.0


def test_engine_loads_the_saved_folder_with_its_variant(turbo_engine, base_engine, tiny_turbo_dir):
    assert turbo_engine.variant.name == "turbo"
    assert turbo_engine.tasks() == ("text2music", "repaint", "cover")
    assert base_engine.variant.name == "base"  # told apart from sft by the folder name
    assert base_engine.tasks() == ("text2music", "repaint", "cover", "extract", "lego", "complete")
    assert turbo_engine.location.folder == tiny_turbo_dir
    assert turbo_engine.pipeline.audio_tokenizer is not None


def test_text2music_with_metadata_gives_the_requested_length(turbo_engine):
    request = MusicRequest(
        prompt="warm lo-fi piano",
        lyrics="[verse]\nla la la\n[chorus]\noh",
        duration=10.3,
        seeds=[3],
        steps=FAST,
        options={"bpm": 92, "keyscale": "F# minor", "timesignature": "3/4", "vocal_language": "ja", "shift": 2.0},
    )
    result = turbo_engine.generate(request)
    check_takes(result, samples=round(10.3 * SR))
    params = result.parameters
    assert params["bpm"] == 92 and params["keyscale"] == "F# minor" and params["timesignature"] == "3"
    assert params["vocal_language"] == "ja" and params["shift"] == 2.0
    assert params["num_inference_steps"] == FAST and params["guidance_scale"] == 1.0
    assert params["seeds"] == [3] and result.takes[0].seed == 3
    assert params["duration"] == pytest.approx(10.3)
    assert set(result.timings) == {"inputs", "diffusion", "decode", "total"}


def test_repaint_keeps_the_source_length(turbo_engine, source_wav):
    request = MusicRequest(task="repaint", prompt="piano", source_audio=source_wav, region_start=2.0,
                           region_end=5.5, seeds=[1], steps=FAST)
    result = turbo_engine.generate(request)
    check_takes(result, samples=round(10.01 * SR))  # not a whole number of latent frames: padded, then trimmed
    assert result.parameters["repainting_start"] == 2.0 and result.parameters["repainting_end"] == 5.5


def test_cover_with_strength(turbo_engine, source_wav):
    request = MusicRequest(task="cover", prompt="jazz cover", source_audio=source_wav, seeds=[2], steps=FAST,
                           options={"audio_cover_strength": 0.6})
    calls = []
    hook = turbo_engine.pipeline.transformer.register_forward_hook(lambda *a: calls.append(1))
    try:
        result = turbo_engine.generate(request)
    finally:
        hook.remove()
    check_takes(result, samples=round(10.01 * SR))
    assert result.parameters["audio_cover_strength"] == 0.6
    assert len(calls) == 2 * FAST  # strength < 1 blends a cover and a text2music prediction on every step


def test_reference_audio_changes_text2music(turbo_engine, reference_wav):
    plain = MusicRequest(prompt="rock", duration=10.0, seeds=[4], steps=FAST)
    with_reference = MusicRequest(prompt="rock", duration=10.0, seeds=[4], steps=FAST, reference_audio=reference_wav)
    a = turbo_engine.generate(plain).takes[0].audio
    b = turbo_engine.generate(with_reference)
    check_takes(b, samples=10 * SR)
    assert b.parameters["reference_audio"] == reference_wav
    assert not np.array_equal(a, b.takes[0].audio)


@pytest.mark.parametrize(
    "task, options, region",
    [
        ("extract", {"track_name": "vocals"}, {}),
        ("lego", {"track_name": "Drums"}, {"region_start": 1.0, "region_end": 6.0}),
        ("complete", {"complete_track_classes": ["bass", "guitar"]}, {}),
    ],
)
def test_base_only_tasks_with_track_names(base_engine, source_wav, task, options, region):
    request = MusicRequest(task=task, prompt="band", source_audio=source_wav, seeds=[5], steps=FAST,
                           options=options, **region)
    result = base_engine.generate(request)
    check_takes(result, samples=round(10.01 * SR))
    if task == "complete":
        assert result.parameters["complete_track_classes"] == ["bass", "guitar"]
    else:
        assert result.parameters["track_name"] == options["track_name"].lower()


def test_base_text2music_uses_guidance_and_cfg_interval(base_engine):
    request = MusicRequest(prompt="strings", duration=10.0, seeds=[6], steps=FAST, guidance_scale=5.0,
                           options={"cfg_interval_start": 0.5, "cfg_interval_end": 1.0})
    forwards = []
    hook = base_engine.pipeline.transformer.register_forward_hook(lambda m, a, kw, out: forwards.append(kw["hidden_states"].shape[0]), with_kwargs=True)
    try:
        result = base_engine.generate(request)
    finally:
        hook.remove()
    check_takes(result, samples=10 * SR)
    # 2 steps at t = 1.0 and 0.75 (shift 3): guidance only where 1 - t lies in [0.5, 1] -> never; batch stays 1
    assert forwards == [1, 1]
    request.options = {}
    forwards.clear()
    hook = base_engine.pipeline.transformer.register_forward_hook(lambda m, a, kw, out: forwards.append(kw["hidden_states"].shape[0]), with_kwargs=True)
    try:
        base_engine.generate(request)
    finally:
        hook.remove()
    assert forwards == [2, 2]  # conditional and unconditional batched together on every step
    assert base_engine.variant.default_steps == 50


def test_batch_records_per_take_seeds_and_each_take_replays(turbo_engine):
    batch = turbo_engine.generate(MusicRequest(prompt="synth", duration=10.0, batch_size=3, seeds=[11], steps=FAST))
    check_takes(batch, samples=10 * SR, batch=3)
    assert [t.seed for t in batch.takes] == [11, 12, 13] == batch.parameters["seeds"]
    assert not np.array_equal(batch.takes[0].audio, batch.takes[1].audio)
    single = turbo_engine.generate(MusicRequest(prompt="synth", duration=10.0, seeds=[12], steps=FAST))
    # batched matmuls round differently from a batch of one: equal to float tolerance, not bit for bit
    np.testing.assert_allclose(single.takes[0].audio, batch.takes[1].audio, atol=1e-4)


def test_random_seeds_are_drawn_and_recorded(turbo_engine):
    result = turbo_engine.generate(MusicRequest(prompt="x", duration=10.0, batch_size=2, steps=1))
    seeds = [t.seed for t in result.takes]
    assert seeds == result.parameters["seeds"] and len(set(seeds)) == 2
    replay = turbo_engine.generate(MusicRequest(prompt="x", duration=10.0, batch_size=2, seeds=seeds, steps=1))
    for again, take in zip(replay.takes, result.takes):
        np.testing.assert_array_equal(again.audio, take.audio)


def test_the_call_planned_at_submit_runs_without_planning_again(turbo_engine, tiny_turbo_dir, monkeypatch):
    """The check's `plan_call` result travels in the checked request; the run maps nothing again.
    A stored plan without seeds draws fresh ones per run (a retried job is not a copy)."""
    calls = []
    monkeypatch.setattr(acestep15_engine, "plan_call", lambda *a, **k: calls.append(1) or plan_call(*a, **k))
    request = MusicRequest(prompt="piano", duration=10.0, steps=FAST, options={"bpm": 90})
    checked = engines.check("ace-step-1.5", request, model_dir=str(tiny_turbo_dir))
    stored = CheckedRequest.from_dict(json.loads(json.dumps(checked.to_dict())))  # as the job keeps it
    first, second = turbo_engine.generate(stored), turbo_engine.generate(stored)
    assert len(calls) == 1 and first.parameters["bpm"] == 90
    check_takes(first, samples=10 * SR)
    assert first.takes[0].seed != second.takes[0].seed and first.parameters["seeds"] == [first.takes[0].seed]
