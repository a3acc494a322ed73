"""Pipeline behaviour beyond the parity numbers: progress, cancellation, bad input, batching."""

from __future__ import annotations

import math

import pytest
import torch

import music.acestep_v1.call_check as v1_call_check
import music.acestep_v1.pipeline as v1_pipeline_module
from music.acestep_v1 import ACEStepV1Pipeline
from music.acestep_v1.audio.resample import resample
from music.acestep_v1.common import (
    MAX_LYRIC_TOKENS,
    InvalidArguments,
    NonFiniteError,
    parse_seeds,
    unknown_structure_tags,
)
from music.acestep_v1.sampling.guidance import GuidancePlan
from music.acestep_v1.sampling.schedulers import make_schedule
from music.engine import Cancelled
from tests.music.acestep_v1.reference_cases import max_abs, stored_lyric_ids

SHORT = dict(prompt="pop, synth", audio_duration=0.5, infer_step=4, manual_seeds=[3], sample_rate=44100)
IDS = [261, 259, 6683, 2]


def test_progress_is_reported_per_step_then_decode(v1_pipeline):
    calls = []
    v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, progress=lambda *a: calls.append(a), **SHORT)
    assert calls == [("diffusion", i, 4) for i in range(1, 5)] + [("decode", 1, 1)]


def test_a_direct_call_is_checked_once(v1_pipeline, monkeypatch):
    """Callers of the pipeline with upstream's keywords get the one argument check, once."""
    checks = []
    monkeypatch.setattr(v1_pipeline_module, "check_call",
                        lambda **k: checks.append(k) or v1_call_check.check_call(**k))
    v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **SHORT)
    assert len(checks) == 1 and checks[0]["lyric_tokens"] == len(IDS)


def test_cancel_from_progress_stops_the_loop(v1_pipeline, monkeypatch):
    decodes = []
    real_decode = v1_pipeline.transformer.decode
    monkeypatch.setattr(v1_pipeline.transformer, "decode", lambda **kw: decodes.append(1) or real_decode(**kw))

    def progress(stage, step, total):
        if step == 2:
            raise Cancelled("user pressed stop")

    with pytest.raises(Cancelled):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, progress=progress, **{**SHORT, "guidance_scale": 1.0})
    assert len(decodes) == 2


def test_non_finite_latents_stop_with_the_step_named(v1_pipeline, monkeypatch):
    real_decode = v1_pipeline.transformer.decode
    count = {"n": 0}

    def poisoned(**kw):
        count["n"] += 1
        out = real_decode(**kw)
        return out * float("nan") if count["n"] == 3 else out

    monkeypatch.setattr(v1_pipeline.transformer, "decode", poisoned)
    with pytest.raises(NonFiniteError, match=r"after step 3 of 4"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **{**SHORT, "guidance_scale": 1.0})


@pytest.mark.parametrize("duration", [0, -1.0, 240.5, math.nan, 0.05])
def test_bad_durations_are_rejected_before_any_work(v1_pipeline, duration, monkeypatch):
    monkeypatch.setattr(v1_pipeline, "encode_conditions", lambda **kw: pytest.fail("model work started"))
    with pytest.raises(ValueError, match="audio_duration"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **{**SHORT, "audio_duration": duration})


def test_too_many_lyric_tokens_says_how_many(v1_pipeline):
    with pytest.raises(ValueError, match=f"{MAX_LYRIC_TOKENS + 5} tokens"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=[2] * (MAX_LYRIC_TOKENS + 5), **SHORT)


def test_unknown_and_invalid_arguments_are_errors(v1_pipeline):
    with pytest.raises(InvalidArguments, match="guidance_scal"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, guidance_scal=3.0, **SHORT)
    with pytest.raises(InvalidArguments, match="save_path: generate writes no file"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, save_path="out.wav", **SHORT)
    with pytest.raises(InvalidArguments, match="retake_variance"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, task="retake", retake_variance=2.0, **SHORT)
    with pytest.raises(InvalidArguments, match="sample_rate"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **{**SHORT, "sample_rate": 22050})
    with pytest.raises(InvalidArguments, match="cfg_type"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, cfg_type="pag", **SHORT)
    with pytest.raises(InvalidArguments, match="lora_weight"):
        v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, lora_name_or_path="some/lora", lora_weight=5.0, **SHORT)


def test_unknown_structure_tags_are_listed():
    lyrics = "[Verse 1]\nhello\n[chorus]\nla\n[Outro - fade]\n[INTRO]\n"
    assert unknown_structure_tags(lyrics) == ["[Outro - fade]", "[Verse 1]"]


def test_seed_rules():
    assert parse_seeds([5], 3) == [5, 5, 5]
    assert parse_seeds("1,2", 3) == [1, 2, 2]
    assert parse_seeds(7, 2) == [7, 7]
    drawn = parse_seeds(None, 2)
    assert len(drawn) == 2 and all(0 <= s < 2**32 for s in drawn)
    with pytest.raises(ValueError, match="manual_seeds"):
        parse_seeds("abc", 1)
    with pytest.raises(ValueError, match="manual_seeds"):
        parse_seeds([1.5], 1)


def test_batched_guidance_equals_separate_forwards(v1_pipeline, v1_cases, v1_tensors):
    """cond / text-only / uncond in one forward give the numbers of three separate forwards."""
    name = "t2m_double_condition"
    kwargs = {k: v for k, v in v1_cases[name]["kwargs"].items() if k != "lyrics"}
    ids = stored_lyric_ids(v1_tensors(name))
    default = v1_pipeline.batched_guidance
    try:
        v1_pipeline.batched_guidance = True
        batched = v1_pipeline.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **kwargs)
        v1_pipeline.batched_guidance = False
        separate = v1_pipeline.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **kwargs)
    finally:
        v1_pipeline.batched_guidance = default
    assert max_abs(batched.latents, separate.latents) < 1e-5


def test_48k_output_is_resampled(v1_pipeline):
    native = v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **SHORT)
    out48 = v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **{**SHORT, "sample_rate": 48000})
    assert out48.sample_rate == 48000
    assert out48.audio.shape[-1] == math.ceil(native.audio.shape[-1] * 160 / 147)
    assert max_abs(out48.latents, native.latents) == 0.0


def test_resampler_keeps_a_tone_at_its_frequency():
    t = torch.arange(44100) / 44100
    tone = torch.sin(2 * math.pi * 1000 * t)[None]
    out = resample(tone, 44100, 48000)
    assert out.shape[-1] == 48000
    spectrum = torch.fft.rfft(out[0, 2000:-2000]).abs()
    peak_hz = spectrum.argmax().item() * 48000 / (out.shape[-1] - 4000)
    assert abs(peak_hz - 1000) < 2
    assert abs(out[0, 2000:-2000].abs().max().item() - 1.0) < 0.01


def test_cached_cross_attention_equals_per_step_recompute(v1_pipeline, v1_cases, v1_tensors):
    name = "t2m_euler_apg"
    kwargs = {k: v for k, v in v1_cases[name]["kwargs"].items() if k != "lyrics"}
    ids = stored_lyric_ids(v1_tensors(name))
    cached = v1_pipeline.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **kwargs)
    v1_pipeline.cache_cross_attention = False
    try:
        recomputed = v1_pipeline.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **kwargs)
    finally:
        v1_pipeline.cache_cross_attention = True
    assert max_abs(cached.latents, recomputed.latents) < 1e-5


def test_denoise_hooks_for_the_editing_modes(v1_pipeline):
    """first_step skips loop steps, before_step may replace the latents, update replaces the
    sampler step (what repaint needs); guidance indices stay those of the full loop."""
    plan = GuidancePlan(guidance_scale=1.0)
    conditions = v1_pipeline.encode_conditions(
        prompt="pop", lyric_ids=IDS, batch_size=1, plan=plan, use_erg_tag=True, use_erg_lyric=True, use_erg_diffusion=True
    )
    schedule = make_schedule(scheduler_type="euler", infer_step=5, omega_scale=10.0)
    start = torch.zeros(1, 8, 16, 4)
    seen, reported = [], []

    def before(i, t, latents):
        seen.append(("before", i))
        return latents + 1.0 if i == 2 else latents

    def update(i, t, velocity, latents):
        seen.append(("update", i))
        return latents - 0.1 * velocity

    out = v1_pipeline.denoise(
        latents=start, schedule=schedule, conditions=conditions, plan=plan, first_step=2,
        before_step=before, update=update, progress=lambda *a: reported.append(a),
    )
    assert seen == [("before", 2), ("update", 2), ("before", 3), ("update", 3), ("before", 4), ("update", 4)]
    assert [r[1] for r in reported] == [3, 4, 5]
    assert out.shape == start.shape and not torch.equal(out, start)


def test_a_dit_only_pipeline_can_be_built_for_step_benchmarks(v1_pipeline):
    """bench/bench_v1_full_size.py times guided steps with the DiT alone (no DCAE, no UMT5)."""
    for offload in (False, True):
        pipe = ACEStepV1Pipeline(transformer=v1_pipeline.transformer, dcae=None, text_encoder=None,
                                 lyric_vocab=None, device="cpu", dtype=torch.float32, offload=offload)
        assert pipe.transformer is v1_pipeline.transformer


def test_lyrics_none_is_an_instrumental_not_a_crash(v1_pipeline):
    """Upstream crashes on lyrics=None; here it is the same call as lyrics=""."""
    none = v1_pipeline.generate(lyrics=None, **{**SHORT, "infer_step": 2})
    empty = v1_pipeline.generate(lyrics="", **{**SHORT, "infer_step": 2})
    assert torch.equal(none.latents, empty.latents) and none.parameters["lyrics"] == ""


def test_generate_warns_about_unknown_tags_and_records_them(v1_pipeline, caplog):
    lyrics = "[Verse 1]\nhello\n[chorus]\nla\n[Bridge - soft]"
    with caplog.at_level("WARNING", logger="music.acestep_v1.pipeline"):
        out = v1_pipeline.generate(lyrics=lyrics, **{**SHORT, "infer_step": 1, "guidance_scale": 1.0})
    assert len(out.warnings) == 1
    listed = out.warnings[0].split(";")[0]  # the unknown tags, before the list of known ones
    assert "[Verse 1]" in listed and "[Bridge - soft]" in listed and "[chorus]" not in listed
    assert out.warnings[0] in caplog.text
    clean = v1_pipeline.generate(lyrics="[verse]\nhello", **{**SHORT, "infer_step": 1, "guidance_scale": 1.0})
    assert clean.warnings == []


def test_upstreams_full_default_signature_is_accepted(v1_pipeline):
    """Every keyword of upstream's `__call__` (except the file-writing ones) at its upstream
    default runs text2music, with the same numbers as leaving them out."""
    upstream_defaults = dict(
        guidance_interval=0.5, guidance_interval_decay=0.0, min_guidance_scale=3.0, use_erg_tag=True,
        use_erg_lyric=True, use_erg_diffusion=True, oss_steps=None, guidance_scale_text=0.0, guidance_scale_lyric=0.0,
        audio2audio_enable=False, ref_audio_strength=0.5, ref_audio_input=None, lora_name_or_path="none",
        lora_weight=1.0, retake_seeds=None, retake_variance=0.5, task="text2music", repaint_start=0, repaint_end=0,
        src_audio_path=None, edit_target_prompt=None, edit_target_lyrics=None, edit_n_min=0.0, edit_n_max=1.0,
        edit_n_avg=1, batch_size=1, debug=False, scheduler_type="euler", cfg_type="apg", omega_scale=10.0,
    )
    short = {**SHORT, "infer_step": 2}
    full = v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **short, **upstream_defaults)
    plain = v1_pipeline.generate_with_token_ids(lyric_token_ids=IDS, **short)
    assert torch.equal(full.latents, plain.latents)
