"""Device memory of a LoRA training run, estimated from the checkpoint's files before any weight is
read: tensor shapes come from the safetensors headers (a length and a JSON header at the start of
each file), so a submit can refuse a run that cannot fit and the worker can check it against what
is free. The engines' plans (`music.acestep_v1.training.plan`, `music.acestep15.training_plan`) say
which tensors load and which layers the LoRA adapts; the sums are here.

The run's peak is taken as
* the weights the device holds, at the training dtype;
* the adapter: rank x (inputs + outputs) per adapted layer, in fp32, four times over (weights,
  gradients and AdamW's two moments);
* the activations the backward pass holds: ACTIVATION_BYTES per DiT block, latent frame and
  channel at bf16 (scaled by the dtype's size and the batch), for one block with gradient
  checkpointing, every block without;
* RUNTIME: the rest of the measured peak (the framework's own memory, the optimizer's temporaries).

Calibration: bench/bench_v1_lora_memory.py at full size (24 blocks of width 2560, bf16, rank 64 on
the attention and lyric-encoder targets, 69.99 M adapter parameters, a 30 s clip = 322 frames,
batch 1; peak CPU RSS as the proxy for device memory) measured 6.33 GiB with gradient checkpointing
and 7.41 GiB without. The 1.08 GiB between them is 23 blocks' activations, which gives
ACTIVATION_BYTES; RUNTIME is what remains of 6.33 GiB after the weights (4.82 GiB), the adapter
(1.04 GiB) and one block's activations. Both points are reproduced by `tests/music/training/test_memory.py`.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

GIB = 2**30
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
ADAPTER_COPIES = 4  # fp32 weights, gradients, AdamW exp_avg and exp_avg_sq
ADAPTER_BYTES = 4

# from the bench (see above): 1.08 GiB / (23 blocks x 322 frames x 2560 channels), bf16
BENCH_GIB = {"checkpointing": 6.33, "no_checkpointing": 7.41}
BENCH_RUN = {"blocks": 24, "frames": 322, "width": 2560, "dit_bf16_bytes": 2 * 2_588_427_392,
             "adapter_parameters": 69_992_448}
ACTIVATION_BYTES = (BENCH_GIB["no_checkpointing"] - BENCH_GIB["checkpointing"]) * GIB / (
    (BENCH_RUN["blocks"] - 1) * BENCH_RUN["frames"] * BENCH_RUN["width"])
RUNTIME = int(BENCH_GIB["checkpointing"] * GIB - BENCH_RUN["dit_bf16_bytes"]
              - BENCH_RUN["adapter_parameters"] * ADAPTER_BYTES * ADAPTER_COPIES
              - ACTIVATION_BYTES * BENCH_RUN["frames"] * BENCH_RUN["width"])


@dataclass(frozen=True)
class TrainingMemory:
    """The estimate's parts in bytes; `total` is what the run needs."""

    weights: int
    adapter: int
    activations: int
    runtime: int
    adapter_parameters: int
    window_seconds: float
    rank: int
    dtype: str

    @property
    def total(self) -> int:
        return self.weights + self.adapter + self.activations + self.runtime

    def describe(self) -> str:
        return (f"weights {gib(self.weights)} ({self.dtype}), rank {self.rank} adapter with gradients and optimizer "
                f"{gib(self.adapter)}, activations of a {self.window_seconds:g} s window {gib(self.activations)}, "
                f"runtime {gib(self.runtime)}")


def gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


def safetensors_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """{tensor name: shape} from a file's header; no tensor data is read."""
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    return {name: tuple(info["shape"]) for name, info in header.items() if name != "__metadata__"}


def parameter_count(shapes: Iterable[tuple[int, ...]]) -> int:
    return sum(math.prod(shape) for shape in shapes)


def lora_parameters(shapes: Mapping[str, tuple[int, ...]], target_modules: str, rank: int) -> int:
    """rank x (inputs + outputs) for every layer whose name `target_modules` matches in full (as peft
    matches a string); a 1x1 convolution's (out, in, 1) weight counts as the linear layer it is."""
    total = 0
    for name, shape in shapes.items():
        if name.endswith(".weight") and re.fullmatch(target_modules, name.removesuffix(".weight")):
            total += rank * (math.prod(shape[1:]) + shape[0])
    return total


def training_memory(*, weight_parameters: int, adapter_parameters: int, blocks: int, width: int, frames: int,
                    dtype: str, rank: int, window_seconds: float, batch: int = 1,
                    checkpointing: bool = True) -> TrainingMemory:
    """The estimate for a model of `blocks` transformer blocks of `width` channels, `frames` latent
    frames per window; `weight_parameters` are those the device holds (at `dtype`)."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    held_blocks = 1 if checkpointing else blocks
    scale = DTYPE_BYTES[dtype] / DTYPE_BYTES["bfloat16"]
    return TrainingMemory(
        weights=weight_parameters * DTYPE_BYTES[dtype],
        adapter=adapter_parameters * ADAPTER_BYTES * ADAPTER_COPIES,
        activations=int(ACTIVATION_BYTES * scale * held_blocks * frames * width * batch),
        runtime=RUNTIME, adapter_parameters=adapter_parameters, window_seconds=window_seconds, rank=rank, dtype=dtype,
    )
