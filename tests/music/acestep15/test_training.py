"""LoRA training of the 1.5 transformer (diffusers + peft) on tiny random checkpoints: the loss
falls, the adapter plays through the engine and unloads, resume equals an uninterrupted run.
A tiny random model proves the wiring, never quality."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from music.acestep15.engine import ACEStep15Engine
from music.acestep15.training import AceStep15LoraTrainer
from music.engine import MusicRequest
from music.training.clips import clips_from_folder
from music.training.loop import TrainSettings
from tests.music.training.clip_files import three_clips


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return clips_from_folder(three_clips(tmp_path_factory.mktemp("clips")))


def trainer_for(engine, tmp_path, **kw) -> AceStep15LoraTrainer:
    settings = TrainSettings(**{"steps": 6, "rank": 4, "learning_rate": 1e-3, "warmup_steps": 2, "checkpoint_every": 3, **kw})
    return AceStep15LoraTrainer(engine.pipeline, settings, turbo=engine.variant.turbo, work_dir=tmp_path,
                                model_folder=engine.location.folder, model_id=engine.location.model_id)


def take(engine, **kw):
    request = MusicRequest(prompt="pop, synth", duration=10.0, seeds=[3], steps=2, **kw)
    return engine.generate(request).takes[0].audio


def test_base_training_lowers_the_loss_and_the_adapter_plays_and_unloads(tiny_base_dir, clips, tmp_path):
    engine = ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_base_dir))
    base = take(engine)
    trainer = trainer_for(engine, tmp_path / "w", steps=40, rank=8, learning_rate=1e-2, checkpoint_every=20)
    try:
        assert trainer.prepare(clips) == 3
        trainer.inject()
        before = trainer.eval_loss()
        result = trainer.train()
        after = trainer.eval_loss()
        folder = trainer.save(tmp_path / "mine", name="mine", result=result)
    finally:
        trainer.close()
    # measured 3.36 -> 0.62 (5.4x) at 40 steps, rank 8, lr 1e-2 on the tiny base model
    assert after < before / 2, (before, after)
    assert (take(engine) == base).all()  # close() left the base model

    with safe_open(str(folder / "pytorch_lora_weights.safetensors"), "pt") as handle:
        keys, meta = list(handle.keys()), handle.metadata()
    assert "transformer.layers.0.mlp.gate_proj.lora_A.weight" in keys
    assert "transformer.layers.1.cross_attn.to_out.0.lora_B.weight" in keys
    assert json.loads(meta["lora_adapter_metadata"])["transformer.r"] == 8
    info = json.loads((folder / "adapter.json").read_text())
    assert info["engine"] == "ace-step-1.5" and info["steps"] == 40 and not info["turbo"]

    with_lora = take(engine, lora=str(folder), lora_weight=1.0)
    assert abs(with_lora - base).max() > 1e-5
    assert (take(engine) == base).all()  # a request without the LoRA unloads it


def test_turbo_resume_equals_an_uninterrupted_run(tiny_turbo_dir, clips, tmp_path):
    engine = ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_turbo_dir))

    def run(work, crash_after=None):
        trainer = trainer_for(engine, work)
        try:
            trainer.prepare(clips)
            trainer.train(stop_after=crash_after)
            return trainer.adapter_state()
        finally:
            trainer.close()

    straight = run(tmp_path / "a")
    run(tmp_path / "b", crash_after=5)  # checkpoint at 3; steps 4-5 are lost
    resumed = run(tmp_path / "b")
    assert straight.keys() == resumed.keys()
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key


TASKS_15 = {
    "text2music": ({}, {}),
    "repaint": ({}, {"region_start": 2.0, "region_end": 5.0}),
    "cover": ({"audio_cover_strength": 0.6}, {}),
    "extract": ({"track_name": "vocals"}, {}),
    "lego": ({"track_name": "Drums"}, {"region_start": 1.0, "region_end": 6.0}),
    "complete": ({"complete_track_classes": ["bass", "guitar"]}, {}),
}


@pytest.fixture(scope="module")
def trained_base(tiny_base_dir, clips, tmp_path_factory):
    """A base engine and an adapter trained on it (3 steps; lr high enough for a visible change)."""
    engine = ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_base_dir))
    work = tmp_path_factory.mktemp("train15")
    trainer = trainer_for(engine, work / "w", steps=3, learning_rate=1e-2)
    try:
        trainer.prepare(clips)
        folder = trainer.save(work / "adapter", name="a", result=trainer.train())
    finally:
        trainer.close()
    return engine, str(folder)


@pytest.mark.parametrize("task", list(TASKS_15))
def test_the_adapter_plays_in_every_task(trained_base, task, source_wav):
    engine, adapter = trained_base
    options, fields = TASKS_15[task]
    source = {} if task == "text2music" else {"source_audio": source_wav}
    request = dict(task=task, prompt="pop, synth", duration=10.0, seeds=[4], steps=2, options=options, **source, **fields)
    base = engine.generate(MusicRequest(**request)).takes[0].audio
    played = engine.generate(MusicRequest(**request, lora=adapter, lora_weight=1.0))
    assert played.parameters["lora"] == adapter and played.parameters["lora_weight"] == 1.0
    assert abs(played.takes[0].audio - base).max() > 1e-6, task
    assert (engine.generate(MusicRequest(**request)).takes[0].audio == base).all()  # unloaded cleanly
