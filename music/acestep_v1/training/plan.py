"""What a v1 LoRA run adapts and the device memory it needs, from the checkpoint folder's safetensors
headers alone (no weights read): for the submit-time check and the worker's (see
`music.training.memory` for the formula and its calibration).

The worker loads the whole pipeline (DiT, DCAE, vocoder, UMT5) and trains in bf16 on CUDA, in the
engine's dtype elsewhere; with `offload` only the DiT is on the device while it trains.
"""

from __future__ import annotations

from pathlib import Path

from music.acestep_v1.common import frames_for_duration
from music.acestep_v1.loading.weights import DIT_UNUSED_KEYS
from music.training.memory import TrainingMemory, lora_parameters, parameter_count, safetensors_shapes, training_memory

# DiT self/cross-attention, the DiT feed-forward's two 1x1 convolutions (not the depthwise one),
# the lyric Conformer's attention and feed-forward (peft matches the whole module name)
TARGET_MODULES = (
    r"(transformer_blocks\.\d+\.((attn|cross_attn)\.(to_q|to_k|to_v|to_out\.0)|ff\.(inverted_conv|point_conv)\.conv))"
    r"|(lyric_encoder\.encoders\.\d+\.(self_attn\.linear_(q|k|v|out)|feed_forward\.w_[12]))"
)
DIT_FOLDER = "ace_step_transformer"


def training_dtype(device_type: str, engine_dtype: str | None) -> str:
    """bf16 on CUDA (the memory target), the engine's dtype (default float32) elsewhere."""
    return "bfloat16" if device_type == "cuda" else (engine_dtype or "float32")


def dit_shapes(folder: str | Path) -> dict[str, tuple[int, ...]]:
    """The DiT tensors the loader builds (not the ones it skips), by name."""
    shapes: dict[str, tuple[int, ...]] = {}
    for path in sorted((Path(folder) / DIT_FOLDER).glob("*.safetensors")):
        shapes.update(safetensors_shapes(path))
    if not shapes:
        raise FileNotFoundError(f"{Path(folder) / DIT_FOLDER} holds no safetensors file")
    return {name: shape for name, shape in shapes.items() if not any(p.match(name) for p in DIT_UNUSED_KEYS)}


def estimate(folder: str | Path, *, rank: int, window_seconds: float, dtype: str, offload: bool = False,
             batch: int = 1) -> TrainingMemory:
    """Device memory of a run on the checkpoint in `folder` (windows of `window_seconds`)."""
    folder = Path(folder)
    dit = dit_shapes(folder)
    weights = parameter_count(dit.values())
    if not offload:
        others = [p for p in folder.rglob("*.safetensors") if p.parent.name != DIT_FOLDER]
        weights += sum(parameter_count(safetensors_shapes(p).values()) for p in others)
    width = dit["transformer_blocks.0.attn.to_q.weight"][0]
    return training_memory(weight_parameters=weights, adapter_parameters=lora_parameters(dit, TARGET_MODULES, rank),
                           width=width, frames=frames_for_duration(window_seconds), dtype=dtype, rank=rank,
                           window_seconds=window_seconds, batch=batch)
