"""Issue #18's opt-in fast modes on the tiny random-weight checkpoint: off is the exact path, bit for
bit; each mode changes the output within a stated bound; the step cache records its skips; bad
values, int8 off the CPU and int8 with a LoRA are refused before any model work.

The bounds are the tiny model's (measured: int8 46.8 dB, step cache at 0.05 and 27 steps 31.2 dB
SNR of the final latents); they prove the wiring, not the quality at full size (docs/acestep-v1.md)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from music.acestep_v1.common import InvalidArguments
from music.acestep_v1.engine import ACEStepV1Engine
from music.acestep_v1.fast.int8 import Int8Linear, Int8Pointwise, int8_variant, quantized_bytes, variant_bytes
from music.acestep_v1.fast.options import DEFAULT_STEP_CACHE_THRESHOLD, check_fast, check_fast_device
from music.acestep_v1.fast.step_cache import StepCache
from music.acestep_v1.request_check import run_device
from music.acestep_v1.sampling.guidance import GuidancePlan
from music.engine import CheckedRequest, MusicRequest, RequestError
from tests.music.acestep_v1.reference_cases import TOLERANCE, max_abs, stored_lyric_ids

CASE = "t2m_euler_apg"  # APG with every ERG trick: guided steps batch a weakened null pass


def snr_db(out: torch.Tensor, exact: torch.Tensor) -> float:
    return float(10 * torch.log10(exact.double().pow(2).sum() / (out.double() - exact.double()).pow(2).sum()))


@pytest.fixture
def run(v1_pipeline, v1_cases, v1_tensors):
    """generate on the case's own lyric ids (the tokenizer has its own tests); `steps` overrides."""
    ids = stored_lyric_ids(v1_tensors(CASE))
    kwargs = {k: v for k, v in v1_cases[CASE]["kwargs"].items() if k != "lyrics"}

    def generate(steps: int | None = None, **extra):
        call = {**kwargs, **({"infer_step": steps} if steps else {}), **extra}
        return v1_pipeline.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **call)

    yield generate
    v1_pipeline.batched_guidance = True


# ---- off by default -------------------------------------------------------------------------------

def test_fast_modes_off_is_the_exact_path(run, v1_pipeline, v1_tensors, monkeypatch):
    seen = []
    decode = v1_pipeline.transformer.decode

    def spy(**kwargs):
        seen.append((kwargs.get("step_cache"), v1_pipeline.transformer))
        return decode(**kwargs)

    monkeypatch.setattr(v1_pipeline.transformer, "decode", spy)
    plain = run()
    exact = v1_pipeline.transformer
    assert seen and all(cache is None and model is exact for cache, model in seen)
    assert plain.parameters["fast_modes"] == [] and plain.parameters["step_cache_threshold"] is None
    assert "step_cache" not in plain.parameters and "int8_quantize" not in plain.timings
    for off in ([], ""):
        assert torch.equal(run(fast_modes=off).latents, plain.latents)
    assert max_abs(plain.latents, v1_tensors(CASE)["target_latents"]) < TOLERANCE  # still upstream's numbers


def test_a_step_cache_that_never_skips_is_bit_identical_and_counts_every_pass(run):
    exact = run()
    cached = run(fast_modes=["step-cache"], step_cache_threshold=1e-12)
    assert torch.equal(cached.latents, exact.latents)
    start, end = GuidancePlan(cfg_type="apg", guidance_scale=15.0, guidance_interval=0.5).interval(8)
    assert cached.parameters["step_cache"] == {
        "threshold": 1e-12, "calls": {"cond": 8, "null": end - start}, "skipped": {"cond": 0, "null": 0}}


# ---- step cache -----------------------------------------------------------------------------------

def test_step_cache_skips_steps_and_stays_within_its_bound(run):
    exact = run(steps=27)
    cached = run(steps=27, fast_modes="step-cache")
    record = cached.parameters["step_cache"]
    assert cached.parameters["fast_modes"] == ["step-cache"]
    assert cached.parameters["step_cache_threshold"] == record["threshold"] == DEFAULT_STEP_CACHE_THRESHOLD
    assert record["calls"]["cond"] == 27 and 0 < record["skipped"]["cond"] < 27
    assert 0 < record["skipped"]["null"] < record["calls"]["null"]
    assert not torch.equal(cached.latents, exact.latents)
    assert snr_db(cached.latents, exact.latents) > 25.0  # 31.2 dB measured
    assert max_abs(cached.latents, exact.latents) < 0.3  # 0.11 measured; the latents' std is ~1
    looser = run(steps=27, fast_modes="step-cache", step_cache_threshold=0.2).parameters["step_cache"]
    assert looser["skipped"]["cond"] > record["skipped"]["cond"]  # a larger threshold skips more


def test_step_cache_passes_decide_alone_batched_or_not(run, v1_pipeline, monkeypatch):
    """cond and null keep separate caches: the batched step (one forward, the passes that must run
    in full on their rows only) equals two forwards, skip for skip."""
    subset = []
    blocks = type(v1_pipeline.transformer).run_blocks

    def spy(self, h, indices, **inputs):
        subset.append(h.shape[0] == 1 and indices.start == 1)  # batch 1: one pass of the two ran on
        return blocks(self, h, indices, **inputs)

    monkeypatch.setattr(type(v1_pipeline.transformer), "run_blocks", spy)
    batched = run(steps=27, fast_modes="step-cache", step_cache_threshold=0.05)
    assert any(subset)  # some guided step ran blocks 1.. for one pass while the other skipped
    v1_pipeline.batched_guidance = False
    separate = run(steps=27, fast_modes="step-cache", step_cache_threshold=0.05)
    assert separate.parameters["step_cache"] == batched.parameters["step_cache"]
    assert max_abs(separate.latents, batched.latents) < 1e-4


def test_a_skipped_pass_adds_the_residual_of_its_last_full_step():
    """Two passes of one row each; blocks are `h + (index + 1) * temb`, so every residual is known."""
    def blocks(h, indices, *, temb, **_):
        for index in indices:
            h = h + (index + 1) * temb
        return h

    def inputs(temb):
        return dict(context=torch.zeros(2, 1, 1), temb=temb, rope=None, context_rope=None, frame_mask=None,
                    attn_mask=None, q_scale=None, kv=None, erg_blocks=range(0))

    cache = StepCache(0.1)
    h = torch.zeros(2, 3, 4)
    first_temb = torch.ones(2, 1, 4)
    out = cache.view(["cond", "null"], 1).run(blocks, h, depth=4, **inputs(first_temb))
    assert torch.equal(out, h + 10 * first_temb)  # 1 + 2 + 3 + 4
    temb = torch.stack([torch.full((1, 4), 1.05), torch.full((1, 4), 2.0)])  # cond changes 5 %, null 100 %
    out = cache.view(["cond", "null"], 1).run(blocks, h, depth=4, **inputs(temb))
    assert torch.allclose(out[0], h[0] + temb[0] + 9 * first_temb[0])  # block 0 now, blocks 1-3 cached
    assert torch.equal(out[1], h[1] + 10 * temb[1])  # ran in full
    assert cache.record() == {"threshold": 0.1, "calls": {"cond": 2, "null": 2}, "skipped": {"cond": 1, "null": 0}}


# ---- int8 -----------------------------------------------------------------------------------------

def test_int8_linear_is_close_to_the_float_layer_for_any_float_input():
    torch.manual_seed(0)
    linear = nn.Linear(64, 48)
    x = torch.randn(2, 5, 64)
    x[0, 0] = 0.0  # an all-zero token quantizes to zeros, not 0/0
    layer = Int8Linear.from_linear(linear)
    with torch.no_grad():
        exact, out = linear(x), layer(x)
    assert out.shape == exact.shape and out.dtype == torch.float32 and torch.isfinite(out).all()
    assert snr_db(out, exact) > 35.0  # ~38 dB: per-token activations, per-channel weights
    half = layer(x.bfloat16())
    assert half.dtype == torch.bfloat16 and snr_db(half.float(), exact) > 30.0


def test_int8_variant_quantizes_the_blocks_and_shares_the_rest(v1_pipeline):
    exact = v1_pipeline.transformer
    before = {k: v.clone() for k, v in exact.state_dict().items()}
    variant = int8_variant(exact)
    assert variant is not exact and variant.lyric_encoder is exact.lyric_encoder
    assert variant.final_layer is exact.final_layer and variant.config is exact.config
    for ours, theirs in zip(variant.transformer_blocks, exact.transformer_blocks):
        assert sum(isinstance(m, Int8Linear) for m in ours.modules()) == 10  # 8 attention + 2 GLUMBConv 1x1
        assert isinstance(ours.ff.inverted_conv, Int8Pointwise) and isinstance(ours.ff.point_conv, Int8Pointwise)
        assert ours.ff.depth_conv is theirs.ff.depth_conv and ours.scale_shift_table is theirs.scale_shift_table
        assert type(theirs.attn.to_q) is nn.Linear  # the exact model keeps its layers
    after = exact.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    config = exact.config
    assert quantized_bytes(variant) <= variant_bytes(config.width, config.num_layers, config.mlp_ratio)


def test_int8_generate_stays_within_its_bound_and_the_variant_is_kept(run, v1_pipeline):
    exact = run()
    first = run(fast_modes=["int8"])
    assert "int8_quantize" in first.timings and first.parameters["fast_modes"] == ["int8"]
    assert "step_cache" not in first.parameters
    assert not torch.equal(first.latents, exact.latents)
    assert snr_db(first.latents, exact.latents) > 35.0 and max_abs(first.latents, exact.latents) < 0.1
    second = run(fast_modes="int8")
    assert "int8_quantize" not in second.timings and torch.equal(second.latents, first.latents)
    assert torch.equal(run().latents, exact.latents)  # the exact model is back and unchanged
    both = run(fast_modes="int8,step_cache")
    assert both.parameters["fast_modes"] == ["int8", "step-cache"] and "step_cache" in both.parameters


# ---- refused before any model work ------------------------------------------------------------------

@pytest.mark.parametrize(("fast", "threshold", "task", "lora", "message"), [
    (["turbo"], None, "text2music", None, "unknown fast mode.*turbo"),
    (3, None, "text2music", None, "fast_modes must be a list"),
    (["step-cache"], 0, "text2music", None, r"step_cache_threshold must be a number in \(0, 1\]"),
    (["step-cache"], -0.1, "text2music", None, r"in \(0, 1\]"),
    (["step-cache"], 1.5, "text2music", None, r"in \(0, 1\]"),
    (["step-cache"], float("nan"), "text2music", None, r"in \(0, 1\]"),
    (["step-cache"], "0.1", "text2music", None, r"in \(0, 1\]"),
    (["step-cache"], True, "text2music", None, r"in \(0, 1\]"),
    (None, 0.1, "text2music", None, "add step-cache to fast_modes"),
    (["int8"], 0.1, "text2music", None, "add step-cache to fast_modes"),
    (["step-cache"], None, "edit", None, "does not run with task edit"),
    (["int8"], None, "text2music", "/some/lora", "cannot run with a LoRA"),
])
def test_bad_fast_values_are_refused(fast, threshold, task, lora, message):
    with pytest.raises(InvalidArguments, match=message):
        check_fast(fast, threshold, task=task, lora=lora)


def test_good_fast_values_are_normalised():
    spec = check_fast("step_cache, INT8", None, task="text2music", lora="none")
    assert spec.modes == ("int8", "step-cache") and spec.step_cache_threshold == DEFAULT_STEP_CACHE_THRESHOLD
    assert check_fast(["int8"], None, task="edit", lora=None).step_cache_threshold is None


def test_int8_runs_on_the_cpu_only():
    spec = check_fast(["int8", "step-cache"], None, task="text2music", lora=None)
    check_fast_device(spec, "cpu")
    for device in ("cuda", "cuda:1", "mps"):
        with pytest.raises(InvalidArguments, match="runs on the CPU only"):
            check_fast_device(spec, device)
    check_fast_device(check_fast(["step-cache"], None, task="text2music", lora=None), "cuda")  # any device


def test_the_engine_check_refuses_fast_values_and_int8_where_the_settings_run_it(v1_reference, monkeypatch):
    def check(options, **settings):
        request = MusicRequest(prompt="pop", duration=2.0, options=options)
        return ACEStepV1Engine.check(request, model_dir=str(v1_reference / "checkpoint"),
                                     settings={"lyric_vocab": str(v1_reference / "lyrics_vocab.json"), **settings})

    with pytest.raises(RequestError, match="unknown fast mode"):
        check({"fast_modes": ["warp"]})
    with pytest.raises(RequestError, match="CPU only.*cuda"):
        check({"fast_modes": ["int8"]}, device="cuda")
    checked = check({"fast_modes": ["int8", "step-cache"], "step_cache_threshold": 0.1}, device="cpu")
    assert checked.facts["call"]["fast_modes"] == ["int8", "step-cache"]
    assert checked.facts["call"]["step_cache_threshold"] == 0.1
    assert run_device({"device": "auto"}) == "cpu"  # no GPU here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(RequestError, match="CPU only.*cuda"):
        check({"fast_modes": ["int8"]}, device="auto")


def test_an_int8_job_on_a_gpu_worker_fails_before_its_weights_load():
    """Checked for a CPU at submit, run by a CUDA worker: refused before the checkpoint is read
    (it does not exist here, so loading would be the error otherwise)."""
    checked = ACEStepV1Engine.check(MusicRequest(prompt="pop", duration=2.0, options={"fast_modes": ["int8"]}),
                                    settings={"device": "cpu"})
    engine = ACEStepV1Engine(source="/nonexistent/checkpoint", device="cuda", dtype=torch.float32, cache_dir=None,
                             lyric_vocab=None)
    with pytest.raises(RequestError, match="runs on the CPU only"):
        engine.run(checked)
    assert engine._pipeline is None


def test_the_engine_records_the_fast_modes_and_what_the_step_cache_skipped(v1_pipeline, v1_cases, v1_tensors,
                                                                           monkeypatch):
    monkeypatch.setattr(v1_pipeline, "tokenize_lyrics", lambda text: stored_lyric_ids(v1_tensors(CASE)))
    engine = ACEStepV1Engine(source="tiny", device="cpu", dtype=torch.float32, cache_dir=None, lyric_vocab=None,
                             pipeline=v1_pipeline)
    result = engine.generate(MusicRequest(prompt="pop", lyrics="[verse]\nla", duration=1.0, steps=6, seeds=[3],
                                          options={"fast_modes": ["int8", "step-cache"], "step_cache_threshold": 0.1}))
    parameters = result.parameters
    assert parameters["fast_modes"] == ["int8", "step-cache"] and parameters["step_cache_threshold"] == 0.1
    assert parameters["step_cache"]["calls"]["cond"] == 6 and "skipped" in parameters["step_cache"]


def test_run_memory_counts_the_int8_variant(v1_reference):
    settings = {"model_dir": str(v1_reference / "checkpoint"), "dtype": "float32"}

    def need(options):
        request = MusicRequest(prompt="pop", duration=30.0, options=options)
        checked = CheckedRequest(engine="ace-step-v1", request=request,
                                 facts={"call": {"fast_modes": options.get("fast_modes", [])}})
        return ACEStepV1Engine.run_memory_bytes(checked, settings=settings)

    assert need({"fast_modes": ["int8"]}) - need({}) == variant_bytes(32, 24, 2.5)
    assert need({"fast_modes": ["step-cache"]}) == need({})
