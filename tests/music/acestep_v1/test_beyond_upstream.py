"""The "beyond upstream" promises that the parity numbers cannot show: no materialised
(B, H, W, L) cross-attention mask (none at all when nothing is padded), both stereo channels in
one vocoder batch, and no global side effects or unwanted packages at import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from music.acestep_v1.models.transformer import cross_attention_mask
from music.acestep_v1.sampling.guidance import GuidancePlan

REPO = Path(__file__).resolve().parents[3]
IDS = [261, 259, 6683, 2]


def test_cross_attention_mask_is_none_or_broadcast():
    full = torch.ones(2, 5)
    assert cross_attention_mask(None, full, dtype=torch.float32) is None
    assert cross_attention_mask(torch.ones(2, 7), full, dtype=torch.float32) is None
    padded = full.clone()
    padded[:, -1] = 0
    mask = cross_attention_mask(None, padded, dtype=torch.bfloat16)
    assert mask.shape == (2, 1, 1, 5) and mask.dtype == torch.bfloat16  # never (B, H, W, L)
    assert torch.isinf(mask[..., -1]).all() and (mask[..., :-1] == 0).all()
    frames = torch.ones(2, 7)
    frames[1, 3] = 0
    mask = cross_attention_mask(frames, padded, dtype=torch.float32)
    assert mask.shape == (2, 1, 7, 5)
    assert torch.isinf(mask[1, 0, 3]).all() and (mask[0, 0, :, :-1] == 0).all()


def _sdpa_masks(pipe, lyric_ids, monkeypatch):
    seen = []
    real = F.scaled_dot_product_attention

    def spy(q, k, v, attn_mask=None, **kw):
        seen.append(None if attn_mask is None else tuple(attn_mask.shape))
        return real(q, k, v, attn_mask=attn_mask, **kw)

    plan = GuidancePlan(guidance_scale=15.0)
    conditions = pipe.encode_conditions(prompt="pop", lyric_ids=lyric_ids, batch_size=2, plan=plan,
                                        use_erg_tag=True, use_erg_lyric=True, use_erg_diffusion=True)
    monkeypatch.setattr(F, "scaled_dot_product_attention", spy)
    with torch.inference_mode():
        pipe.velocity(latents=torch.randn(2, 8, 16, 5), timestep=torch.tensor(500.0), conditions=conditions,
                      guider=None, step=0, scale=15.0)
    monkeypatch.undo()
    return seen


def test_no_cross_attention_mask_when_nothing_is_padded(v1_pipeline, monkeypatch):
    seen = _sdpa_masks(v1_pipeline, IDS, monkeypatch)
    assert len(seen) == v1_pipeline.transformer.config.num_layers
    assert set(seen) == {None}


def test_padded_context_gets_a_broadcast_mask(v1_pipeline, monkeypatch):
    seen = _sdpa_masks(v1_pipeline, [], monkeypatch)  # instrumental: the lyric slot has mask 0
    assert len(seen) == v1_pipeline.transformer.config.num_layers
    assert {shape[:2] for shape in seen} == {(2, 1)}  # (B, 1, ., L), no head axis


def test_vocoder_takes_the_channels_one_at_a_time_on_a_cpu(v1_pipeline, v1_tensors, monkeypatch):
    """On a CPU the batch of two was slower (bench_v1_vocoder_same_weights.py); the numbers are
    those of one batched call either way."""
    latents = v1_tensors("t2m_batch2")["target_latents"]
    vocoder = v1_pipeline.dcae.vocoder
    with torch.inference_mode():
        mel = v1_pipeline.dcae.latents_to_mel(latents)
        batched = torch.stack([vocoder(item * 7.0 - 4.0)[:, 0] for item in mel])
        calls = []
        real_forward = vocoder.forward
        monkeypatch.setattr(vocoder, "forward", lambda x: calls.append(tuple(x.shape)) or real_forward(x))
        audio = v1_pipeline.dcae.mel_to_audio(mel)
    assert calls == [(1, mel.shape[2], mel.shape[3])] * (2 * latents.shape[0])
    assert (audio - batched).abs().max().item() < 1e-5


_IMPORT_PROBE = r"""
import importlib, json, os, pkgutil, sys
import torch

def flags():
    return {
        "matmul_precision": torch.get_float32_matmul_precision(),
        "cuda_matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_tf32": torch.backends.cudnn.allow_tf32,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "default_dtype": str(torch.get_default_dtype()),
        "grad": torch.is_grad_enabled(),
        "threads": torch.get_num_threads(),
        "env": dict(os.environ),
    }

before = flags()
import music.acestep_v1
names = [m.name for m in pkgutil.walk_packages(music.acestep_v1.__path__, "music.acestep_v1.")]
for name in names:
    importlib.import_module(name)
import music.registry
after = flags()
print(json.dumps({"names": names, "before": before, "after": after,
                  "modules": sorted(m for m in ("spacy", "gradio", "torchvision", "torchaudio") if m in sys.modules)}))
"""


def test_import_sets_no_global_flags_and_pulls_no_unwanted_packages():
    done = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    v1 = "music.acestep_v1."
    assert {v1 + "pipeline", v1 + "lyric_frontend.tokenizer", v1 + "engine", v1 + "models.transformer"} <= set(report["names"])
    assert report["after"] == report["before"]
    assert report["modules"] == []


def test_conditions_once_per_call_and_one_forward_per_guided_step(v1_pipeline, monkeypatch):
    """Double condition + all ERG tricks: upstream runs UMT5 twice, the condition encoder three
    times and the DiT three times per guided step; here it is once, once, and once."""
    counts = {"umt5": 0, "encode": 0, "decode": []}
    handle = v1_pipeline.text_encoder.model.register_forward_hook(lambda *a: counts.__setitem__("umt5", counts["umt5"] + 1))
    real_encode, real_decode = v1_pipeline.transformer.encode, v1_pipeline.transformer.decode

    def encode(**kw):
        counts["encode"] += 1
        return real_encode(**kw)

    def decode(**kw):
        counts["decode"].append(kw["latents"].shape[0])
        return real_decode(**kw)

    monkeypatch.setattr(v1_pipeline.transformer, "encode", encode)
    monkeypatch.setattr(v1_pipeline.transformer, "decode", decode)
    monkeypatch.setattr(v1_pipeline, "batched_guidance", True)  # the accelerators' path
    kwargs = dict(
        lyric_token_ids=IDS, prompt="folk", audio_duration=0.5, infer_step=4, guidance_interval=1.0,
        guidance_scale=12.0, guidance_scale_text=5.0, guidance_scale_lyric=2.5, manual_seeds=[1, 2], batch_size=2,
        sample_rate=44100,
    )
    try:
        v1_pipeline.generate_with_token_ids(**kwargs)
        assert counts["umt5"] == 1 and counts["encode"] == 1
        assert counts["decode"] == [2 * 3] * 4  # [cond | text-only | uncond] rows of both items, one forward a step
        counts.update(umt5=0, encode=0, decode=[])
        monkeypatch.setattr(v1_pipeline, "batched_guidance", False)  # the CPU's path: a forward per kind
        v1_pipeline.generate_with_token_ids(**kwargs)
    finally:
        handle.remove()
    assert counts["umt5"] == 1 and counts["encode"] == 1
    assert counts["decode"] == [2] * 3 * 4
