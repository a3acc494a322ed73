"""Tiny random ACE-Step 1.5 checkpoints, saved in the diffusers layout at test time, and audio files.

Nothing here is downloaded; the checkpoints prove wiring and numerics, not musical quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")

from tests.music.acestep15.tiny_acestep15 import build_pipeline, save_tiny_checkpoint  # noqa: E402

SR = 48000
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
UPSTREAM_NAMES = {"to_q": "q_proj", "to_k": "k_proj", "to_v": "v_proj", "to_out.0": "o_proj"}


@pytest.fixture(scope="session")
def tiny_turbo_dir(tmp_path_factory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "acestep-v15-turbo-tiny", turbo=True)


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "acestep-v15-base-tiny", turbo=False)


@pytest.fixture(scope="session")
def turbo_engine(tiny_turbo_dir):
    from music.acestep15.engine import ACEStep15Engine

    return ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_turbo_dir))


@pytest.fixture(scope="session")
def base_engine(tiny_base_dir):
    from music.acestep15.engine import ACEStep15Engine

    return ACEStep15Engine.from_settings(model_id_or_dir=str(tiny_base_dir))


def write_wav(path: Path, seconds: float, *, rate: int = SR, channels: int = 2, freq: float = 220.0) -> str:
    import soundfile as sf

    t = np.arange(round(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * np.sin(2 * np.pi * 3.1 * freq * t)
    data = np.stack([tone * (1.0 - 0.3 * c) for c in range(channels)], axis=1).astype(np.float32)
    sf.write(str(path), data, rate, subtype="FLOAT")
    return str(path)


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def source_wav(audio_dir) -> str:
    """10 s of stereo 48 kHz audio, a length that is not a whole number of 1920-sample latent frames."""
    return write_wav(audio_dir / "source.wav", 10.01)


@pytest.fixture(scope="session")
def reference_wav(audio_dir) -> str:
    return write_wav(audio_dir / "reference.wav", 3.0, freq=330.0)


def _peft_lora(*, rank: int, alpha: int):
    """A random LoRA on the tiny DiT: its state dict (diffusers names) and peft config."""
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    transformer = build_pipeline(turbo=True).transformer
    torch.manual_seed(7)
    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=LORA_TARGETS, init_lora_weights=False)
    transformer.add_adapter(config, adapter_name="made")
    state = get_peft_model_state_dict(transformer, adapter_name="made")
    return {k: v.detach().clone() for k, v in state.items()}, transformer.peft_config["made"]


@pytest.fixture(scope="session")
def lora_dir(tmp_path_factory) -> str:
    """A diffusers-format LoRA folder (`pytorch_lora_weights.safetensors`), r = alpha = 4."""
    from diffusers import AceStepPipeline

    state, _ = _peft_lora(rank=4, alpha=4)
    folder = tmp_path_factory.mktemp("lora") / "style"
    AceStepPipeline.save_lora_weights(str(folder), transformer_lora_layers=state)
    return str(folder)


@pytest.fixture(scope="session")
def alpha_loras(tmp_path_factory) -> tuple[str, str]:
    """The same r=4, alpha=8 LoRA twice: diffusers format with its config stored in the file, and
    the original ACE-Step PEFT folder (`adapter_model.safetensors` + `adapter_config.json`)."""
    from diffusers import AceStepPipeline
    from safetensors.torch import save_file

    state, config = _peft_lora(rank=4, alpha=8)
    root = tmp_path_factory.mktemp("alpha_lora")
    with_metadata = root / "diffusers"
    AceStepPipeline.save_lora_weights(
        str(with_metadata), transformer_lora_layers=state, transformer_lora_adapter_metadata=config.to_dict()
    )
    upstream = root / "upstream"
    upstream.mkdir()
    renamed = {}
    for key, value in state.items():
        for ours, theirs in UPSTREAM_NAMES.items():
            key = key.replace(f".{ours}.", f".{theirs}.")
        renamed[f"base_model.model.{key}"] = value.contiguous()
    save_file(renamed, str(upstream / "adapter_model.safetensors"))
    (upstream / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": list(UPSTREAM_NAMES.values())})
    )
    return str(with_metadata), str(upstream)
