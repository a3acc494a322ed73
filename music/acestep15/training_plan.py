"""What a 1.5 LoRA run adapts and the device memory it needs, from the diffusers folder's config
files and safetensors headers alone (no weights read), for the submit-time check and the worker's.

The formula is `music.training.memory`'s, calibrated on the v1 DiT. For 1.5 its activation term
is an extrapolation (the same bytes per token and channel, 1.5's tokens being latent frames over
its patch size), not a measurement: no 1.5 training step was measured at full size.
The worker trains on the engine's loaded pipeline (every component in the folder; with `offload`
only the transformer is on the device while it trains), in the engine's dtype.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from music.acestep15.loading import SAMPLE_RATE, resolve_dtype
from music.training.memory import TrainingMemory, lora_parameters, parameter_count, safetensors_shapes, training_memory

TARGET_MODULES = r"layers\.\d+\.((self_attn|cross_attn)\.(to_q|to_k|to_v|to_out\.0)|mlp\.(gate_proj|up_proj|down_proj))"
TRANSFORMER_FOLDER = "transformer"


def training_dtype(device_type: str, engine_dtype: str | None) -> str:
    """The engine's dtype: as set, else bf16 on an accelerator and fp32 on the CPU."""
    return str(resolve_dtype(engine_dtype, device_type)).removeprefix("torch.")


def estimate(folder: str | Path, *, rank: int, window_seconds: float, dtype: str, offload: bool = False,
             batch: int = 1) -> TrainingMemory:
    """Device memory of a run on the checkpoint in `folder` (windows of `window_seconds`)."""
    folder = Path(folder)
    transformer: dict[str, tuple[int, ...]] = {}
    for path in sorted((folder / TRANSFORMER_FOLDER).glob("*.safetensors")):
        transformer.update(safetensors_shapes(path))
    if not transformer:
        raise FileNotFoundError(f"{folder / TRANSFORMER_FOLDER} holds no safetensors file")
    weights = parameter_count(transformer.values())
    if not offload:
        others = [p for p in folder.rglob("*.safetensors") if p.parent.name != TRANSFORMER_FOLDER]
        weights += sum(parameter_count(safetensors_shapes(p).values()) for p in others)
    config = json.loads((folder / TRANSFORMER_FOLDER / "config.json").read_text(encoding="utf-8"))
    vae = json.loads((folder / "vae" / "config.json").read_text(encoding="utf-8"))
    frames = math.ceil(window_seconds * SAMPLE_RATE / math.prod(vae["downsampling_ratios"]))
    return training_memory(weight_parameters=weights, adapter_parameters=lora_parameters(transformer, TARGET_MODULES, rank),
                           width=config["hidden_size"], frames=math.ceil(frames / config.get("patch_size", 1)),
                           dtype=dtype, rank=rank, window_seconds=window_seconds, batch=batch)
