"""Determinism, progress, cancellation, LoRA and rejections on the tiny checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from music.engine import Cancelled, MusicRequest, RequestError
from music.registry import engines

FAST = 2


def audio(engine, request):
    return engine.generate(request).takes[0].audio


def counting_forwards(engine):
    calls = []
    hook = engine.pipeline.transformer.register_forward_hook(lambda *args: calls.append(1))
    return calls, hook


# --- determinism ---

def test_same_seed_same_audio_text2music(turbo_engine):
    request = MusicRequest(prompt="calm", lyrics="[verse]\nhello", duration=10.0, seeds=[21], steps=FAST)
    first = audio(turbo_engine, request)
    np.testing.assert_array_equal(first, audio(turbo_engine, request))
    other = MusicRequest(prompt="calm", lyrics="[verse]\nhello", duration=10.0, seeds=[22], steps=FAST)
    assert not np.array_equal(first, audio(turbo_engine, other))


def test_same_seed_same_audio_for_source_tasks_without_touching_the_callers_rng(turbo_engine, source_wav):
    # The pipeline samples the VAE posterior with the global RNG; the engine seeds it inside a fork.
    request = MusicRequest(task="repaint", prompt="calm", source_audio=source_wav, region_start=1.0, seeds=[5], steps=FAST)
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    first = audio(turbo_engine, request)
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(999)  # a different global state must not matter
    np.testing.assert_array_equal(first, audio(turbo_engine, request))


# --- progress and cancellation ---

def test_progress_reaches_n_of_n_with_the_turbo_default_of_8_steps(turbo_engine):
    seen = []
    result = turbo_engine.generate(MusicRequest(prompt="p", duration=10.0, seeds=[1]), lambda *a: seen.append(a))
    assert result.parameters["num_inference_steps"] == 8
    assert [s for s in seen if s[0] == "diffusion"] == [("diffusion", i, 8) for i in range(9)]
    assert seen[-1] == ("decode", 1, 1)


def test_cancel_stops_at_the_next_step_and_the_engine_stays_usable(turbo_engine):
    seen = []

    def progress(stage, step, total):
        seen.append(step)
        if step == 2:
            raise Cancelled("user pressed stop")

    calls, hook = counting_forwards(turbo_engine)
    try:
        with pytest.raises(Cancelled):
            turbo_engine.generate(MusicRequest(prompt="p", duration=10.0, seeds=[1], steps=8), progress)
    finally:
        hook.remove()
    assert seen == [0, 1, 2] and len(calls) == 2  # no DiT step after the cancel, no decode
    assert turbo_engine.generate(MusicRequest(prompt="p", duration=10.0, seeds=[1], steps=1)).takes


def test_cancel_before_any_work(turbo_engine):
    def progress(stage, step, total):
        raise Cancelled()

    calls, hook = counting_forwards(turbo_engine)
    try:
        with pytest.raises(Cancelled):
            turbo_engine.generate(MusicRequest(prompt="p", duration=10.0, seeds=[1], steps=FAST), progress)
    finally:
        hook.remove()
    assert calls == []


# --- LoRA ---

@pytest.fixture
def clean_lora(turbo_engine):
    yield turbo_engine
    turbo_engine.unload_lora()


def test_lora_weight_and_unload_without_reloading_the_model(clean_lora, lora_dir, monkeypatch):
    engine = clean_lora
    transformer = engine.pipeline.transformer
    loads = []
    real_load = engine.pipeline.load_lora_weights
    monkeypatch.setattr(engine.pipeline, "load_lora_weights", lambda *a, **kw: (loads.append(a), real_load(*a, **kw))[1])
    base = MusicRequest(prompt="p", duration=10.0, seeds=[8], steps=FAST)
    plain = audio(engine, base)

    full = audio(engine, MusicRequest(prompt="p", duration=10.0, seeds=[8], steps=FAST, lora=lora_dir, lora_weight=1.0))
    half = audio(engine, MusicRequest(prompt="p", duration=10.0, seeds=[8], steps=FAST, lora=lora_dir, lora_weight=0.5))
    zero = audio(engine, MusicRequest(prompt="p", duration=10.0, seeds=[8], steps=FAST, lora=lora_dir, lora_weight=0.0))
    assert not np.array_equal(plain, full) and not np.array_equal(full, half)
    np.testing.assert_array_equal(zero, plain)  # weight 0 is exactly the base model
    assert len(loads) == 1 and engine.lora_path == lora_dir  # re-weighting did not reload the LoRA

    np.testing.assert_array_equal(audio(engine, base), plain)  # a request without a LoRA unloads it
    assert engine.lora_path is None and engine.pipeline.get_list_adapters() == {}

    engine.load_lora(lora_dir, weight=0.2)  # the direct API: load, re-weight, unload
    engine.set_lora_weight(0.5)
    assert engine.pipeline.get_list_adapters() == {"transformer": ["songstudio"]} and len(loads) == 2
    engine.unload_lora()
    assert engine.pipeline.get_list_adapters() == {}
    np.testing.assert_array_equal(audio(engine, base), plain)
    assert engine.pipeline.transformer is transformer  # the base model was never reloaded


def test_upstream_peft_lora_plays_at_alpha_over_r(clean_lora, alpha_loras):
    engine = clean_lora
    with_metadata, upstream = alpha_loras
    request = MusicRequest(prompt="p", duration=10.0, seeds=[9], steps=FAST, lora_weight=0.7)
    request.lora = with_metadata
    expected = audio(engine, request)
    request.lora = upstream
    # diffusers alone would load the upstream folder at alpha = r (half strength here)
    np.testing.assert_allclose(audio(engine, request), expected, atol=1e-5)


def test_broken_lora_leaves_the_base_model_clean(clean_lora, lora_dir, tmp_path):
    engine = clean_lora
    engine.load_lora(lora_dir)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    with pytest.raises(RequestError, match="cannot load LoRA .*junk.safetensors"):
        engine.load_lora(str(junk))
    assert engine.lora_path is None and engine.pipeline.get_list_adapters() == {}


def test_missing_lora_is_rejected_before_work(turbo_engine, tmp_path):
    with pytest.raises(RequestError, match="LoRA not found"):
        turbo_engine.validate(MusicRequest(prompt="p", lora=str(tmp_path / "nope")))
    with pytest.raises(RequestError, match="no LoRA is loaded"):
        turbo_engine.set_lora_weight(0.5)


# --- rejections name the models that can ---

@pytest.mark.parametrize("task", ["extract", "lego", "complete"])
def test_base_only_task_on_turbo_names_the_base_models(turbo_engine, source_wav, task):
    calls, hook = counting_forwards(turbo_engine)
    seen = []
    try:
        with pytest.raises(RequestError) as info:
            turbo_engine.generate(
                MusicRequest(task=task, prompt="p", source_audio=source_wav, options={"track_name": "vocals"}),
                lambda *a: seen.append(a),
            )
    finally:
        hook.remove()
    message = str(info.value)
    assert "turbo" in message
    assert "base (ACE-Step/acestep-v15-base-diffusers)" in message
    assert "xl-base (ACE-Step/acestep-v15-xl-base-diffusers)" in message
    assert "sft" not in message.split("models that can:")[1]
    assert calls == [] and seen == []


def test_v1_only_task_points_at_the_v1_engine(turbo_engine):
    with pytest.raises(RequestError, match="'ace-step-v1' engine"):
        turbo_engine.validate(MusicRequest(task="extend", prompt="p"))


def test_guidance_on_turbo_is_refused_not_ignored(turbo_engine, base_engine):
    with pytest.raises(RequestError, match="guidance-distilled"):
        turbo_engine.validate(MusicRequest(prompt="p", guidance_scale=7.0))
    with pytest.raises(RequestError, match="cfg_interval"):
        turbo_engine.validate(MusicRequest(prompt="p", options={"cfg_interval_start": 0.2}))
    base_engine.validate(MusicRequest(prompt="p", guidance_scale=7.0, options={"cfg_interval_start": 0.2}))


def test_cover_needs_the_audio_tokenizer(tmp_path, tiny_turbo_dir, source_wav):
    """A checkpoint saved without audio tokenizer/detokenizer cannot cover; say so before any work."""
    from diffusers import AceStepPipeline

    from music.acestep15.engine import ACEStep15Engine

    pipe = AceStepPipeline.from_pretrained(str(tiny_turbo_dir), audio_tokenizer=None, audio_token_detokenizer=None)
    folder = tmp_path / "acestep-v15-turbo-notok"
    pipe.save_pretrained(str(folder))
    engine = ACEStep15Engine.from_settings(model_id_or_dir=str(folder))
    with pytest.raises(RequestError, match="audio_tokenizer"):
        engine.validate(MusicRequest(task="cover", prompt="p", source_audio=source_wav))
    engine.validate(MusicRequest(task="repaint", prompt="p", source_audio=source_wav, region_start=0.0))


def test_registry_builds_the_engine(tiny_turbo_dir):
    engine = engines.create("ace-step-1.5", model_id_or_dir=str(tiny_turbo_dir), device="cpu")
    assert engine.name == "ace-step-1.5" and engine.sample_rate == 48000 and engine.max_duration == 600
