"""The fast-mode arguments of a v1 call (`fast_modes`, `step_cache_threshold`), checked without a
model: by `call_check.check_call` for every call, and against the device where it will run
(`check_fast_device`) by the engine's submit check and again by the pipeline before any model work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from music.acestep_v1.common import InvalidArguments

INT8 = "int8"
STEP_CACHE = "step-cache"
FAST_MODES = (INT8, STEP_CACHE)  # also the order they are recorded in
# Relative change of the first block's residual below which a step reuses the cached residual of
# the other blocks. 0.05 sits at the cautious end of what First-Block Cache uses for image DiTs
# (0.05-0.12); it was not tuned on the real v1 weights (none here): see docs/acestep-v1.md.
DEFAULT_STEP_CACHE_THRESHOLD = 0.05
MAX_STEP_CACHE_THRESHOLD = 1.0  # a change as large as the residual itself: beyond this nothing is "barely"


@dataclass(frozen=True, kw_only=True)
class FastSpec:
    """Checked fast modes of one call: plain data (`to_dict` / `from_dict`) stored with the job."""

    modes: tuple[str, ...] = ()
    step_cache_threshold: float | None = None  # set exactly when step-cache is on

    @property
    def int8(self) -> bool:
        return INT8 in self.modes

    @property
    def step_cache(self) -> bool:
        return STEP_CACHE in self.modes

    def to_dict(self) -> dict[str, Any]:
        return {"fast_modes": list(self.modes), "step_cache_threshold": self.step_cache_threshold}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "FastSpec":
        data = data or {}
        return cls(modes=tuple(data.get("fast_modes") or ()), step_cache_threshold=data.get("step_cache_threshold"))


EXACT = FastSpec()


def parse_fast_modes(value: Any) -> tuple[str, ...]:
    """A list of mode names or a comma-separated string ("int8,step-cache"); `step_cache` is read
    as `step-cache`. Returned in the order of FAST_MODES, each once."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        names = [v.strip() for v in value]
    else:
        raise InvalidArguments(f"fast_modes must be a list of names or a comma-separated string, got {value!r}")
    names = [name.lower().replace("_", "-") for name in names if name]
    unknown = sorted(set(names) - set(FAST_MODES))
    if unknown:
        raise InvalidArguments(f"unknown fast mode(s): {', '.join(unknown)}; known: {', '.join(FAST_MODES)}")
    return tuple(mode for mode in FAST_MODES if mode in names)


def check_fast(fast_modes: Any, step_cache_threshold: Any, *, task: str, lora: str | None) -> FastSpec:
    """The fast-mode arguments of a call; InvalidArguments naming what to change."""
    modes = parse_fast_modes(fast_modes)
    threshold = None
    if STEP_CACHE in modes:
        threshold = DEFAULT_STEP_CACHE_THRESHOLD if step_cache_threshold is None else step_cache_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold) \
                or not 0 < threshold <= MAX_STEP_CACHE_THRESHOLD:
            raise InvalidArguments(
                f"step_cache_threshold must be a number in (0, {MAX_STEP_CACHE_THRESHOLD:g}], got {threshold!r} "
                f"(default {DEFAULT_STEP_CACHE_THRESHOLD:g}; larger skips more steps and changes the output more)")
        threshold = float(threshold)
        if task == "edit":
            raise InvalidArguments(
                "the step-cache fast mode does not run with task edit (FlowEdit averages velocities over noise "
                "draws, which a step cache would reuse across); use int8 or no fast mode for edit")
    elif step_cache_threshold is not None:
        raise InvalidArguments("step_cache_threshold is the step-cache fast mode's setting: add step-cache to "
                               "fast_modes, or leave the threshold out")
    if INT8 in modes and lora and str(lora).lower() != "none":
        raise InvalidArguments("the int8 fast mode cannot run with a LoRA (its layers wrap the exact linear layers "
                               "that int8 replaces); leave out the LoRA or int8")
    return FastSpec(modes=modes, step_cache_threshold=threshold)


def check_fast_device(spec: FastSpec, device: str) -> None:
    """int8 runs on the CPU only: its int8 matrix product (torch._int_mm) was built and measured
    there; on CUDA it has shape limits and was never run, on mps it does not exist."""
    kind = str(device).split(":")[0]
    if spec.int8 and kind != "cpu":
        raise InvalidArguments(
            f"the int8 fast mode runs on the CPU only, and this engine runs on {device}; leave out int8 "
            "(step-cache works on any device)")
