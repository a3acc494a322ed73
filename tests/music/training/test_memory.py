"""The training memory estimate: it reproduces the full-size bench it is calibrated on, and on the
tiny checkpoints it counts exactly the weights the worker loads and the LoRA parameters the trainers
inject (read from the safetensors headers, no weights loaded)."""

from __future__ import annotations

import pytest
import torch

from music.acestep_v1 import ACEStepV1Pipeline
from music.acestep_v1.loading.tiny import build_tiny_checkpoint, lyric_vocab_path
from music.acestep_v1.loading.weights import build_on_meta
from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
from music.acestep_v1.training import plan as v1_plan
from music.acestep_v1.training.trainer import V1LoraTrainer
from music.training.clips import clips_from_folder
from music.training.loop import TrainSettings
from music.training.memory import GIB, lora_parameters, parameter_count, safetensors_shapes, training_memory
from tests.music.training.clip_files import three_clips

# the targets the bench measured (before the DiT feed-forward was adapted): attention + lyric encoder
BENCH_TARGETS = (r"(transformer_blocks\.\d+\.(attn|cross_attn)\.(to_q|to_k|to_v|to_out\.0))"
                 r"|(lyric_encoder\.encoders\.\d+\.(self_attn\.linear_(q|k|v|out)|feed_forward\.w_[12]))")


def dit_shapes(blocks: int) -> dict[str, tuple[int, ...]]:
    dit = build_on_meta(lambda: ACEStepDiT(DiTConfig(num_layers=blocks)))  # the released width, no memory taken
    return {name: tuple(p.shape) for name, p in dit.named_parameters()}


@pytest.fixture(scope="module")
def full_dit_shapes():
    return dit_shapes(24)


def bench_run(shapes, targets, frames):
    """The estimate for a bench/bench_v1_lora_memory.py run (DiT only, bf16, rank 64, batch 1)."""
    return training_memory(weight_parameters=parameter_count(shapes.values()), dtype="bfloat16", rank=64,
                           adapter_parameters=lora_parameters(shapes, targets, 64), width=2560, frames=frames,
                           window_seconds=frames / 10.77)


def test_the_formula_reproduces_the_bench_runs(full_dit_shapes):
    two = dit_shapes(2)
    assert lora_parameters(two, v1_plan.TARGET_MODULES, 64) == 15_433_728  # the 2-block runs printed 15.4 M
    assert parameter_count(two.values()) * 2 / GIB == pytest.approx(0.65, abs=0.005)
    assert bench_run(two, v1_plan.TARGET_MODULES, 322).total / GIB == pytest.approx(1.62, abs=0.005)  # 30 s
    assert bench_run(two, v1_plan.TARGET_MODULES, 1291).total / GIB == pytest.approx(2.25, abs=0.005)  # 120 s
    assert lora_parameters(full_dit_shapes, BENCH_TARGETS, 64) == 69_992_448  # the full run printed 70.0 M
    assert parameter_count(full_dit_shapes.values()) * 2 / GIB == pytest.approx(4.82, abs=0.005)
    full = bench_run(full_dit_shapes, BENCH_TARGETS, 322).total / GIB
    assert 6.33 <= full <= 6.33 + 0.3, full  # measured 6.33 GiB: the estimate is above it, by 0.27 GiB


def test_the_feed_forward_targets_and_what_rank_window_and_dtype_change(full_dit_shapes):
    with_ff = lora_parameters(full_dit_shapes, v1_plan.TARGET_MODULES, 64)
    assert with_ff == 107_347_968  # + 2 x 1x1 convs x 24 blocks: 64 x (2560 + 12800 + 6400 + 2560) each
    assert lora_parameters(full_dit_shapes, v1_plan.TARGET_MODULES, 16) * 4 == with_ff
    now = bench_run(full_dit_shapes, v1_plan.TARGET_MODULES, 322)
    assert now.total / GIB == pytest.approx(7.16, abs=0.01)  # the bench's full run with today's targets
    assert now.adapter == with_ff * 16
    longer = bench_run(full_dit_shapes, v1_plan.TARGET_MODULES, 8 * 322)
    assert longer.activations == pytest.approx(8 * now.activations, rel=1e-6)
    base = dict(weight_parameters=parameter_count(full_dit_shapes.values()), adapter_parameters=with_ff, width=2560,
                frames=322, rank=64, window_seconds=30.0)
    fp32 = training_memory(**base, dtype="float32")
    assert fp32.weights == 2 * now.weights and fp32.activations == pytest.approx(2 * now.activations, rel=1e-6)
    assert training_memory(**base, dtype="bfloat16", batch=2).activations == pytest.approx(2 * now.activations, rel=1e-6)
    assert "rank 64 adapter" in fp32.describe() and "30 s window" in fp32.describe()
    with pytest.raises(ValueError, match="dtype must be one of"):
        training_memory(**base, dtype="int8")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return clips_from_folder(three_clips(tmp_path_factory.mktemp("clips")))


def test_the_v1_plan_counts_the_loaded_weights_and_the_injected_lora(tmp_path, clips):
    folder = build_tiny_checkpoint(tmp_path / "v1")
    pipe = ACEStepV1Pipeline.from_pretrained(folder, lyric_vocab=lyric_vocab_path(folder))
    estimate = v1_plan.estimate(folder, rank=4, window_seconds=30.0, dtype="float32")
    modules = [pipe.transformer, pipe.dcae.autoencoder, pipe.dcae.vocoder, pipe.text_encoder.model]
    loaded = sum(t.numel() for m in modules for t in [*m.parameters(), *m.buffers()])
    assert estimate.weights / 4 == pytest.approx(loaded, rel=0.01)  # the vocoder stores weight norm as two tensors
    assert v1_plan.estimate(folder, rank=4, window_seconds=30.0, dtype="float32", offload=True).weights == \
        4 * parameter_count(v1_plan.dit_shapes(folder).values())
    trainer = V1LoraTrainer(pipe, TrainSettings(steps=1, rank=4), work_dir=tmp_path / "w")
    try:
        trainer.prepare(clips[:1])
        injected = sum(p.numel() for p in trainer.make_run().params)
    finally:
        trainer.close()
    assert estimate.adapter_parameters == injected


def test_the_v15_plan_counts_the_loaded_weights_and_the_injected_lora(tmp_path):
    from music.acestep15 import training_plan
    from music.acestep15.engine import ACEStep15Engine
    from music.acestep15.tiny import build_tiny_checkpoint as build_tiny_15
    from music.acestep15.training import AceStep15LoraTrainer

    tiny_turbo_dir = build_tiny_15(tmp_path / "v15", turbo=True)
    engine = ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_turbo_dir))
    estimate = training_plan.estimate(tiny_turbo_dir, rank=4, window_seconds=30.0, dtype="float32")
    components = [c for c in engine.pipeline.components.values() if isinstance(c, torch.nn.Module)]
    loaded = sum(t.numel() for m in components for t in [*m.parameters(), *m.buffers()])
    assert estimate.weights / 4 == pytest.approx(loaded, rel=0.01)
    transformer = safetensors_shapes(tiny_turbo_dir / "transformer" / "diffusion_pytorch_model.safetensors")
    assert training_plan.estimate(tiny_turbo_dir, rank=4, window_seconds=30.0, dtype="float32",
                                  offload=True).weights == 4 * parameter_count(transformer.values())
    trainer = AceStep15LoraTrainer(engine.pipeline, TrainSettings(steps=1, rank=4), turbo=True, work_dir=tmp_path / "w")
    try:
        trainer.inject()
        injected = sum(p.numel() for p in trainer.transformer.parameters() if p.requires_grad)
    finally:
        trainer.close()
    assert estimate.adapter_parameters == injected
    assert training_plan.training_dtype("cpu", None) == "float32" and training_plan.training_dtype("cuda", None) == "bfloat16"
    assert v1_plan.training_dtype("cuda", "float32") == "bfloat16" and v1_plan.training_dtype("mps", None) == "float32"
