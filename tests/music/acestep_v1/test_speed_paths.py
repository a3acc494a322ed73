"""The guided step's path per device, and compiled DiT blocks (issue #18's exact-path speedups).

Tiny random weights: these prove the paths give the same numbers, not the speed (that is
bench/bench_v1_full_size.py's job)."""

from __future__ import annotations

import pytest
import torch

from music.acestep_v1 import compile_policy
from music.acestep_v1.compile_policy import decide, parse_compile_setting
from music.acestep_v1.engine import ACEStepV1Engine
from music.acestep_v1.fast.int8 import int8_variant
from music.acestep_v1.pipeline import ACEStepV1Pipeline, batched_guidance_for
from music.engine import RequestError
from tests.music.acestep_v1.reference_cases import TOLERANCE, max_abs, stored_lyric_ids


def test_cpu_takes_two_forwards_and_accelerators_batch():
    assert batched_guidance_for(torch.device("cpu")) is False
    assert batched_guidance_for(torch.device("cuda")) is True
    assert batched_guidance_for(torch.device("mps")) is True


def test_a_cpu_pipeline_defaults_to_two_forwards(v1_pipeline):
    pipe = ACEStepV1Pipeline(transformer=v1_pipeline.transformer, dcae=None, text_encoder=None,
                             lyric_vocab=None, device="cpu", dtype=torch.float32)
    assert pipe.batched_guidance is False and pipe.compile_dit is False
    assert v1_pipeline.transformer.compiled_blocks is None


@pytest.fixture
def compiled(v1_pipeline):
    """The session pipeline with compiled blocks for one test, eager again afterwards."""
    v1_pipeline.transformer.compile_blocks()
    try:
        yield v1_pipeline
    finally:
        v1_pipeline.transformer.compiled_blocks = None


def test_compiled_blocks_keep_upstream_parity(compiled, v1_cases, v1_tensors):
    """A guided reference case (APG, ERG on) through compiled blocks: still within the parity
    tolerance of upstream's stored output, and close to our eager run."""
    name = "t2m_euler_apg"
    case, tensors = v1_cases[name], v1_tensors(name)
    kwargs = {k: v for k, v in case["kwargs"].items() if k != "lyrics"}
    ids = stored_lyric_ids(tensors)
    fast = compiled.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **kwargs)
    assert max_abs(fast.latents, tensors["target_latents"]) < TOLERANCE
    assert max_abs(fast.audio, tensors["waveform"]) < TOLERANCE
    blocks = compiled.transformer.compiled_blocks
    compiled.transformer.compiled_blocks = None
    try:
        eager = compiled.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **kwargs)
    finally:
        compiled.transformer.compiled_blocks = blocks
    assert max_abs(fast.latents, eager.latents) < 1e-4


def test_compiled_blocks_are_used_for_inference_and_never_for_training(compiled):
    """With gradients on (LoRA training) the eager blocks run, so autograd and checkpointing see
    the plain modules; under inference_mode the compiled ones do."""
    dit = compiled.transformer
    calls = []
    original = dit.compiled_blocks
    dit.compiled_blocks = [_Recorder(block, calls) for block in original]
    try:
        latents = torch.randn(1, 8, 16, 6)
        conditions = dit.encode(
            text_states=torch.randn(1, 3, dit.config.text_embedding_dim), text_mask=torch.ones(1, 3, dtype=torch.long),
            speaker_embeds=torch.zeros(1, dit.config.speaker_embedding_dim),
            lyric_ids=torch.ones(1, 4, dtype=torch.long), lyric_mask=torch.ones(1, 4, dtype=torch.long),
        )
        with torch.inference_mode():
            dit.decode(latents=latents, timestep=torch.tensor([500.0]), conditions=conditions)
        assert len(calls) == len(dit.transformer_blocks)
        calls.clear()
        with torch.enable_grad():
            dit.decode(latents=latents, timestep=torch.tensor([500.0]), conditions=conditions)
        assert calls == []
    finally:
        dit.compiled_blocks = original


class _Recorder:
    def __init__(self, block, calls):
        self.block, self.calls = block, calls

    def __call__(self, *args, **kwargs):
        self.calls.append(1)
        return self.block(*args, **kwargs)


def test_a_compiled_run_says_so_in_its_parameters(compiled):
    out = compiled.generate_with_token_ids(lyric_token_ids=[], audio_duration=0.5, infer_step=1, manual_seeds=[1],
                                           guidance_scale=1.0)
    assert out.parameters["compiled_dit"] is True


def test_the_engine_setting_reaches_the_pipeline(v1_reference, tmp_path):
    engine = ACEStepV1Engine.from_settings(model_dir=v1_reference / "checkpoint", compile_dit=True,
                                           lyric_vocab=v1_reference / "lyrics_vocab.json", cache_dir=tmp_path)
    assert engine.compile_dit is True
    assert engine.pipeline.compile_dit is True and engine.pipeline.transformer.compiled_blocks is not None
    auto = ACEStepV1Engine.from_settings(model_dir=v1_reference / "checkpoint", cache_dir=tmp_path,
                                         lyric_vocab=v1_reference / "lyrics_vocab.json")
    assert auto.compile_dit == "auto"  # the default: the tiny reference DiT stays eager
    assert auto.pipeline.compile_dit is False and auto.pipeline.transformer.compiled_blocks is None
    with pytest.raises(RequestError, match="compile_dit must be true, false or \"auto\""):
        ACEStepV1Engine.from_settings(model_dir=v1_reference / "checkpoint", compile_dit="sometimes")


def test_auto_compiles_the_full_size_dit_on_a_cpu_only(monkeypatch):
    monkeypatch.setattr(compile_policy, "has_cxx_compiler", lambda: True)
    assert decide("auto", width=2560, device="cpu").enabled is True
    assert decide("auto", width=64, device="cpu").enabled is False  # the demo DiT
    not_measured = decide("auto", width=2560, device="cuda")
    assert not_measured.enabled is False and "compile_dit=true" in not_measured.reason
    assert decide(True, width=64, device="cuda").enabled is True
    assert decide(False, width=2560, device="cpu").enabled is False
    monkeypatch.setattr(compile_policy, "has_cxx_compiler", lambda: False)
    no_compiler = decide("auto", width=2560, device="cpu")
    assert no_compiler.enabled is False and "g++" in no_compiler.reason


def test_the_setting_reads_json_and_text_and_refuses_numbers():
    assert parse_compile_setting(True) is True and parse_compile_setting("false") is False
    assert parse_compile_setting("AUTO") == "auto"
    for bad in (1, 0, "yes", None):
        with pytest.raises(ValueError, match="compile_dit"):
            parse_compile_setting(bad)


def test_the_int8_variant_of_a_compiled_model_runs_its_own_int8_blocks(compiled):
    """The variant shares the exact model's modules; it must not inherit its compiled blocks,
    which would run the exact weights under the int8 label."""
    variant = int8_variant(compiled.transformer)
    assert compiled.transformer.compiled_blocks is not None
    assert variant.compiled_blocks is None
