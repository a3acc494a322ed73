"""The editing modes through `ACEStepV1Pipeline.generate(**upstream_kwargs)` on the shared tiny
checkpoint: retake, repaint, edit and audio2audio equal upstream's stored tensors within 1e-3;
extend (intentionally not upstream's arithmetic) checked by its own rules; bad input refused
before any model work.

Lyrics are turned into ids by a lookup of upstream's stored ids for the case lyrics: the lyric
tokenizer has its own parity tests, and these tests are about the modes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import save_file

from music.acestep_v1 import ACEStepV1Pipeline
from music.acestep_v1.audio.source_audio import load_source_audio
from music.acestep_v1.common import FRAMES_PER_SECOND
from music.acestep_v1.loading.lora import LORA_FILE
from music.acestep_v1.modes.sampler import encode_audio
from music.acestep_v1.sampling.schedulers import make_schedule, training_sigma_range
from music.engine import Cancelled

TOL = 1e-3
MODE_CASES = ("retake", "repaint", "edit", "audio2audio")


@pytest.fixture(scope="module")
def cases(v1_cases):
    return v1_cases


@pytest.fixture(scope="module")
def stored(v1_cases, v1_tensors):
    return {name: v1_tensors(name) for name, c in v1_cases.items() if c["task"] != "text2music" or name == "t2m_euler_apg"}


@pytest.fixture(scope="module")
def lyric_table(cases, stored):
    table = {}
    for name, tensors in stored.items():
        kwargs = cases[name]["kwargs"]
        table[kwargs["lyrics"]] = tensors["lyric_token_ids"][0].tolist()
        if "edit_target_lyrics" in kwargs:
            table[kwargs["edit_target_lyrics"]] = tensors["target_lyric_token_ids"][0].tolist()
    return table


@pytest.fixture
def pipe(v1_pipeline, lyric_table, monkeypatch):
    monkeypatch.setattr(v1_pipeline, "tokenize_lyrics", lambda text: lyric_table[text])
    yield v1_pipeline
    v1_pipeline.lora.unload()


@pytest.fixture
def in_reference_dir(v1_reference, monkeypatch):
    monkeypatch.chdir(v1_reference)  # the cases name source_44k.wav relative to the folder
    return v1_reference


@pytest.fixture
def no_model_work(pipe, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("model work started for a request that should have been refused")

    monkeypatch.setattr(pipe.transformer, "encode", refuse)
    monkeypatch.setattr(pipe.transformer, "decode", refuse)
    monkeypatch.setattr(pipe.dcae, "encode", refuse)
    return pipe


@pytest.mark.parametrize("name", MODE_CASES)
def test_mode_matches_upstream(pipe, cases, stored, in_reference_dir, name):
    case, expected = cases[name], stored[name]
    out = pipe.generate(**case["kwargs"], sample_rate=44100)
    assert out.latents.shape == expected["target_latents"].shape
    assert (out.latents - expected["target_latents"]).abs().max().item() < TOL
    assert (out.audio - expected["waveform"]).abs().max().item() < TOL
    assert out.parameters["task"] == case["task"]
    if case["retake_seeds_used"]:
        assert out.parameters["retake_seeds"] == case["retake_seeds_used"]


def test_noise_draws_and_source_latents_match_upstream(pipe, stored, v1_reference):
    retake = stored["retake"]
    frames = retake["noise"].shape[-1]
    assert torch.equal(pipe.initial_noise(pipe.make_generators([1234]), frames), retake["noise"])
    assert torch.equal(pipe.initial_noise(pipe.make_generators([777]), frames), retake["retake_noise"])
    source = load_source_audio(v1_reference / "source_44k.wav")
    latents = encode_audio(pipe, source.waveform)
    # the tiny random DCAE encoder amplifies float32 rounding: fp32 vs fp64 differ by ~5e-4 here
    assert (latents - stored["repaint"]["src_latents"]).abs().max().item() < TOL


def test_audio2audio_schedule_matches_upstream(cases, stored):
    expected = stored["audio2audio"]
    kwargs = cases["audio2audio"]["kwargs"]
    sigma_max = 1 - kwargs["ref_audio_strength"]
    schedule = make_schedule(scheduler_type="euler", infer_step=int(sigma_max * kwargs["infer_step"]),
                             omega_scale=10.0, sigma_max=sigma_max)
    torch.testing.assert_close(schedule.timesteps, expected["timesteps"], rtol=0, atol=1e-4)
    assert training_sigma_range(sigma_max)[0] == pytest.approx(0.75, abs=1e-6)


# ---- extend: our own arithmetic --------------------------------------------------------------

def extend_kwargs(cases, **override):
    kwargs = {k: v for k, v in cases["extend"]["kwargs"].items()}
    kwargs.update(infer_step=3, **override)
    return kwargs


@pytest.mark.parametrize(
    "start,extra,left,right",
    [(-0.5, 0.0, 5, 0), (0.0, 0.9, 0, 10), (-0.5, 0.9, 5, 10)],
    ids=["left-only", "right-only", "both"],
)
def test_extend_adds_the_requested_lengths_and_keeps_the_source(pipe, cases, stored, in_reference_dir, start, extra, left, right):
    source_seconds = stored["extend"]["src_latents"].shape[-1] * 4096 / 44100
    out = pipe.generate(**extend_kwargs(cases, repaint_start=start, repaint_end=source_seconds + extra), sample_rate=44100)
    width = stored["extend"]["src_latents"].shape[-1]
    assert out.latents.shape[-1] == left + width + right
    assert abs(left - abs(start) * FRAMES_PER_SECOND) <= 1 and abs(right - extra * FRAMES_PER_SECOND) <= 1
    assert out.parameters["extend_frames"] == [left, right]
    # unmasked frames end exactly on the source path ((1 - 0)·x0 at the last step)
    src = out.latents[..., left : left + width]
    assert (src - stored["extend"]["src_latents"]).abs().max().item() < TOL
    if left:
        assert out.latents[..., :left].abs().mean() > 0.1
    if right:
        assert out.latents[..., left + width :].abs().mean() > 0.1
    assert out.audio.shape[-1] == out.latents.shape[-1] * 4096


def test_extend_beyond_240_s_is_refused_before_model_work(no_model_work, cases, in_reference_dir):
    with pytest.raises(ValueError, match="at most 240 s"):
        no_model_work.generate(**extend_kwargs(cases, repaint_start=-100.0, repaint_end=150.0))


def test_repaint_keeps_frames_outside_the_region(pipe, cases, stored, in_reference_dir):
    out = pipe.generate(**{**cases["repaint"]["kwargs"], "infer_step": 4}, sample_rate=44100)
    start, end = int(0.8 * FRAMES_PER_SECOND), int(1.7 * FRAMES_PER_SECOND)
    src = stored["repaint"]["src_latents"]
    outside = torch.cat([out.latents[..., :start] - src[..., :start], out.latents[..., end:] - src[..., end:]], -1)
    assert outside.abs().max().item() < TOL
    assert (out.latents[..., start:end] - src[..., start:end]).abs().max() > 0.1


def test_pingpong_edit_really_edits(pipe, cases, stored, in_reference_dir):
    """Upstream's PingPong FlowEdit never updates z_edit, so with n_max = 1 it returns the source."""
    kwargs = {**cases["edit"]["kwargs"], "scheduler_type": "pingpong", "edit_n_min": 0.0, "edit_n_max": 1.0, "infer_step": 3}
    out = pipe.generate(**kwargs, sample_rate=44100)
    assert (out.latents - stored["edit"]["src_latents"]).abs().max() > 0.1
    assert torch.isfinite(out.latents).all()


@pytest.mark.parametrize(
    "override,message",
    [
        ({"task": "repaint", "repaint_start": 1.0, "repaint_end": 3.0}, "outside the source"),
        ({"task": "repaint", "repaint_start": 1.0, "repaint_end": 1.0}, "region is empty"),
        ({"task": "repaint", "src_audio_path": "no_such.wav"}, "not found"),
        ({"task": "edit", "edit_n_min": 0.7, "edit_n_max": 0.3}, "edit_n_min must be below edit_n_max"),
        ({"task": "text2music", "src_audio_path": None, "audio2audio_enable": True, "ref_audio_input": "source_44k.wav",
          "ref_audio_strength": 1.5}, r"ref_audio_strength must be in \[0, 1\]"),
        ({"lora_name_or_path": "no/such-lora", "lora_weight": 4.0}, "lora_weight"),
    ],
)
def test_bad_input_is_refused_before_model_work(no_model_work, cases, in_reference_dir, override, message):
    kwargs = {**cases["repaint"]["kwargs"], **override}
    with pytest.raises(ValueError, match=message):  # InvalidArguments from the pipeline
        no_model_work.generate(**kwargs)


def test_corrupt_source_file(no_model_work, cases, tmp_path):
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"fLaC" + bytes(100))
    with pytest.raises(ValueError, match="cannot read source audio"):
        no_model_work.generate(**{**cases["repaint"]["kwargs"], "src_audio_path": str(bad)})


def test_other_rates_and_mono_sources_work(pipe, cases, tmp_path):
    t = np.arange(int(1.2 * 22050)) / 22050
    path = tmp_path / "mono22k.ogg"
    sf.write(str(path), 0.3 * np.sin(2 * math.pi * 220 * t), 22050)
    out = pipe.generate(**{**cases["audio2audio"]["kwargs"], "ref_audio_input": str(path), "infer_step": 4}, sample_rate=44100)
    assert out.latents.shape[-1] == math.ceil(math.ceil(1.2 * 44100) / 4096)
    assert torch.isfinite(out.audio).all()


# ---- LoRA through generate ---------------------------------------------------------------------

def test_lora_through_generate(pipe, cases, tmp_path):
    g = torch.Generator().manual_seed(0)
    modules = dict(pipe.transformer.named_modules())
    tensors = {}
    for name in ("transformer_blocks.3.attn.to_q", "transformer_blocks.7.cross_attn.to_v",
                 "lyric_encoder.encoders.1.self_attn.linear_q", "speaker_embedder"):
        layer = modules[name]
        tensors[f"{name}.lora_A.weight"] = torch.randn(2, layer.in_features, generator=g)
        tensors[f"{name}.lora_B.weight"] = torch.randn(layer.out_features, 2, generator=g)
    (tmp_path / "lora").mkdir()
    save_file(tensors, str(tmp_path / "lora" / LORA_FILE))

    kwargs = {**cases["t2m_euler_apg"]["kwargs"], "infer_step": 3}
    base = pipe.generate(**kwargs, sample_rate=44100).latents
    zero = pipe.generate(**kwargs, lora_name_or_path=str(tmp_path / "lora"), lora_weight=0.0, sample_rate=44100)
    assert torch.equal(zero.latents, base)
    assert zero.parameters["lora_weight"] == 0.0
    one = pipe.generate(**kwargs, lora_name_or_path=str(tmp_path / "lora"), lora_weight=1.5, sample_rate=44100)
    assert (one.latents - base).abs().max() > 1e-3
    back = pipe.generate(**kwargs, sample_rate=44100)  # lora_name_or_path defaults to "none": unloaded
    assert torch.equal(back.latents, base) and not pipe.lora.active


@pytest.mark.slow  # bf16 on CPU: about 100 s
def test_all_modes_in_bfloat16(v1_reference, lyric_table, cases, in_reference_dir):
    pipe = ACEStepV1Pipeline.from_pretrained(v1_reference / "checkpoint", device="cpu", dtype=torch.bfloat16,
                                             lyric_vocab=v1_reference / "lyrics_vocab.json")
    pipe.tokenize_lyrics = lambda text: lyric_table[text]
    for name, scheduler in zip(("retake", "repaint", "extend", "edit", "audio2audio"), ("heun", "pingpong", "heun", "pingpong", "heun")):
        out = pipe.generate(**{**cases[name]["kwargs"], "scheduler_type": scheduler, "infer_step": 3, "batch_size": 2},
                            sample_rate=48000)
        assert out.latents.dtype == torch.bfloat16 and out.latents.shape[0] == 2, name
        assert out.audio.dtype == torch.float32 and torch.isfinite(out.audio).all(), name


def test_edit_and_repaint_with_two_takes(pipe, cases, in_reference_dir):
    """Upstream's FlowEdit breaks for batch_size > 1 (batch-1 source against 2B conditions)."""
    for name in ("edit", "repaint"):
        out = pipe.generate(**{**cases[name]["kwargs"], "infer_step": 3, "batch_size": 2, "retake_seeds": [5, 6]},
                            sample_rate=44100)
        assert out.latents.shape[0] == 2 and out.parameters["retake_seeds"] == [5, 6]
        assert (out.latents[0] - out.latents[1]).abs().max() > 1e-3, name


@pytest.mark.parametrize("name", ["edit", "repaint"])
def test_progress_and_cancellation_in_modes(pipe, cases, in_reference_dir, name):
    seen = []

    def progress(stage, step, total):
        seen.append((stage, step, total))
        if step == 5:
            raise Cancelled()

    with pytest.raises(Cancelled):
        pipe.generate(**{**cases[name]["kwargs"], "infer_step": 8}, sample_rate=44100, progress=progress)
    assert seen[-1] == ("diffusion", 5, 8)


def test_audio2audio_strength_edges(pipe, cases, stored, in_reference_dir):
    kwargs = {**cases["audio2audio"]["kwargs"], "infer_step": 4}
    full = pipe.generate(**{**kwargs, "ref_audio_strength": 1.0}, sample_rate=44100)
    assert (full.latents - stored["audio2audio"]["ref_latents"]).abs().max().item() < TOL  # the reference itself
    nearly = pipe.generate(**{**kwargs, "ref_audio_strength": 0.9}, sample_rate=44100)  # int(0.1 * 4) = 0 -> 1 step
    assert torch.isfinite(nearly.latents).all()
    assert (nearly.latents - stored["audio2audio"]["ref_latents"]).abs().max() > 0  # denoised, not returned as is


def test_unguided_edit_and_missing_targets_keep_the_source_conditions(pipe, cases, stored, in_reference_dir):
    kwargs = {**cases["edit"]["kwargs"], "infer_step": 4, "guidance_scale": 1.0}
    edited = pipe.generate(**kwargs, sample_rate=44100)
    assert torch.isfinite(edited.latents).all()
    # no target prompt / lyrics: the source's own, so source and target velocities cancel while editing
    same = pipe.generate(**{**kwargs, "edit_target_prompt": None, "edit_target_lyrics": None,
                            "edit_n_min": 0.0, "edit_n_max": 1.0}, sample_rate=44100)
    assert (same.latents - stored["edit"]["src_latents"]).abs().max().item() < TOL
