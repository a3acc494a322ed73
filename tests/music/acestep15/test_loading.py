"""Checkpoint lookup, variant detection and the offline 'no weights' message."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from music.acestep15.audio_inputs import load_stereo
from music.acestep15.engine import ACEStep15Engine
from music.acestep15.loading import ModelNotFound
from music.acestep15.variants import VariantError, resolve_variant
from music.engine import MusicRequest, RequestError
from tests.music.acestep15.conftest import write_wav


def assert_helpful(message: str) -> None:
    assert "model_index.json" in message and "transformer/" in message and "vae/" in message
    assert "songstudio models import" in message


def test_missing_folder_names_the_layout_and_the_import_command(tmp_path):
    with pytest.raises(ModelNotFound) as info:
        ACEStep15Engine.from_settings(model_id_or_dir=str(tmp_path / "nowhere"))
    assert_helpful(str(info.value))


def test_uncached_hub_id_offline_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFound) as info:
        ACEStep15Engine.from_settings(cache_dir=str(tmp_path / "cache"), local_files_only=True)
    message = str(info.value)
    assert "'ACE-Step/acestep-v15-turbo-diffusers'" in message and "not in the model cache" in message
    assert_helpful(message)


def test_incomplete_and_original_format_folders(tmp_path, tiny_turbo_dir):
    partial = tmp_path / "partial"
    shutil.copytree(tiny_turbo_dir, partial)
    shutil.rmtree(partial / "transformer")
    with pytest.raises(ModelNotFound, match="lacks the component folder.*transformer"):
        ACEStep15Engine.from_settings(model_id_or_dir=str(partial))
    original = tmp_path / "checkpoints"
    (original / "vae").mkdir(parents=True)
    (original / "acestep-v15-turbo").mkdir()
    with pytest.raises(ModelNotFound, match="original-format.*convert_ace_step_to_diffusers"):
        ACEStep15Engine.from_settings(model_id_or_dir=str(original))


def test_settings_errors(tiny_turbo_dir):
    with pytest.raises(RequestError, match="unknown ACE-Step 1.5 setting.*colour"):
        ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_turbo_dir), colour="red")
    with pytest.raises(RequestError, match="offload=True"):
        ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_turbo_dir), offload=True)
    with pytest.raises(RequestError, match="unknown dtype"):
        ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_turbo_dir), dtype="float8")
    with pytest.raises(VariantError, match="contradicts"):
        ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_turbo_dir), variant="base")


def test_model_dir_alias_and_explicit_variant(tmp_path, tiny_base_dir):
    anonymous = tmp_path / "mystery-model"
    anonymous.symlink_to(tiny_base_dir, target_is_directory=True)
    with pytest.raises(VariantError, match="base or an sft"):
        ACEStep15Engine.from_settings(model_dir=str(anonymous))
    engine = ACEStep15Engine.from_settings(model_dir=str(anonymous), variant="sft", dtype="bfloat16")
    assert engine.variant.name == "sft" and "extract" not in engine.tasks()
    assert engine.pipeline.transformer.dtype == torch.bfloat16
    take = engine.generate(MusicRequest(prompt="p", duration=10.0, seeds=[1], steps=1)).takes[0]
    assert take.audio.dtype == np.float32 and take.audio.shape == (2, 480000) and np.isfinite(take.audio).all()


def test_variant_detection_from_config_and_name():
    turbo = {"is_turbo": True, "hidden_size": 2048}
    assert resolve_variant(requested=None, model_id="x/anything", transformer_config=turbo).name == "turbo"
    assert resolve_variant(requested=None, model_id="x/y", transformer_config={"model_version": "turbo", "hidden_size": 2560}).name == "xl-turbo"
    assert resolve_variant(requested=None, model_id="ACE-Step/acestep-v15-xl-base-diffusers", transformer_config={"hidden_size": 2560}).name == "xl-base"
    assert resolve_variant(requested=None, model_id="/models/acestep_v15_sft", transformer_config={"hidden_size": 2048}).name == "sft"
    with pytest.raises(VariantError, match="unknown ACE-Step 1.5 variant 'mega'"):
        resolve_variant(requested="mega", model_id="x/y", transformer_config={})


def test_audio_inputs_become_stereo_at_48k(tmp_path):
    mono = write_wav(tmp_path / "mono.wav", 1.0, rate=44100, channels=1)
    audio = load_stereo(mono, target_rate=48000, role="source_audio")
    assert audio.dtype == torch.float32 and audio.shape == (2, 48000)
    assert torch.equal(audio[0], audio[1])
    assert 0.25 < audio.abs().max() < 0.4  # resampled, not rescaled
    wide = write_wav(tmp_path / "wide.wav", 0.5, rate=48000, channels=3)
    with pytest.raises(RequestError, match="3 channels"):
        load_stereo(wide, target_rate=48000, role="source_audio")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    with pytest.raises(RequestError, match="not a readable audio file"):
        load_stereo(str(junk), target_rate=48000, role="reference_audio")
    assert np.isfinite(audio.numpy()).all()
