"""Device memory of a LoRA training run, estimated from the checkpoint's files before any weight is
read: tensor shapes come from the safetensors headers (a length and a JSON header at the start of
each file), so a submit can refuse a run that cannot fit and the worker can check it against what
is free. The engines' plans (`music.acestep_v1.training.plan`, `music.acestep15.training_plan`) say
which tensors load and which layers the LoRA adapts; the sums are here.

The run's peak is taken as
* the weights the device holds, at the training dtype;
* the adapter: rank x (inputs + outputs) per adapted layer, in fp32, four times over (weights,
  gradients and AdamW's two moments);
* the activations, which grow with the window: ACTIVATION_BYTES per latent frame (token) and model
  channel at bf16, scaled by the dtype's size and the batch. The trainers always checkpoint the
  transformer blocks, so this is one block's recomputed activations plus the parts outside the
  blocks, and it does not grow with the number of blocks;
* RUNTIME: what else the measured peak holds (the framework, the optimizer's temporaries).

Calibration: bench/bench_v1_lora_memory.py (random v1 DiT of width 2560, bf16, rank 64 on today's
targets, batch 1, gradient checkpointing; peak CPU RSS as the proxy for device memory) with 2 blocks
measured 1.62 GiB for a 30 s window (322 frames) and 2.25 GiB for 120 s (1291 frames): the slope
gives ACTIVATION_BYTES, the 30 s point RUNTIME. The full-size run (24 blocks, 30 s, the attention
and lyric targets of the time, 69.99 M adapter parameters) measured 6.33 GiB; the formula gives
6.60 GiB for it, 4 % over: the estimate errs on the side of refusing. `tests/music/training/test_memory.py`
checks all three points.
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

# the two 2-block bench runs (see above): width, DiT and adapter parameters, peak GiB per window's frames
BENCH_WIDTH, BENCH_DIT_PARAMETERS, BENCH_ADAPTER_PARAMETERS = 2560, 351_453_312, 15_433_728
BENCH_PEAK_GIB = {322: 1.62, 1291: 2.25}
ACTIVATION_BYTES = (BENCH_PEAK_GIB[1291] - BENCH_PEAK_GIB[322]) * GIB / ((1291 - 322) * BENCH_WIDTH)
RUNTIME = int(BENCH_PEAK_GIB[322] * GIB - BENCH_DIT_PARAMETERS * DTYPE_BYTES["bfloat16"]
              - BENCH_ADAPTER_PARAMETERS * ADAPTER_BYTES * ADAPTER_COPIES - ACTIVATION_BYTES * 322 * BENCH_WIDTH)


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


def training_memory(*, weight_parameters: int, adapter_parameters: int, width: int, frames: int, dtype: str,
                    rank: int, window_seconds: float, batch: int = 1) -> TrainingMemory:
    """The estimate for a model of `width` channels over `frames` latent frames (tokens) per window;
    `weight_parameters` are those the device holds (at `dtype`)."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    scale = DTYPE_BYTES[dtype] / DTYPE_BYTES["bfloat16"]
    return TrainingMemory(
        weights=weight_parameters * DTYPE_BYTES[dtype],
        adapter=adapter_parameters * ADAPTER_BYTES * ADAPTER_COPIES,
        activations=int(ACTIVATION_BYTES * scale * frames * width * batch),
        runtime=RUNTIME, adapter_parameters=adapter_parameters, window_seconds=window_seconds, rank=rank, dtype=dtype,
    )
