"""The fast modes applied to one pipeline call, and the int8 variant a pipeline keeps between calls.

`FastModes.applied(pipe, spec)` is a context manager around a call: with int8 the pipeline's
`transformer` is the int8 variant for the call (built on the first call that asks for it, then
kept; the exact model is never changed), with step-cache `pipe.step_cache` is a fresh
`StepCache`; both are put back afterwards, also when the call fails. With no fast mode it changes
nothing. The device is checked again here, before any model work (the submit check may have
seen another device than the one the worker has).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

import torch

from music.acestep_v1.fast.int8 import int8_variant
from music.acestep_v1.fast.options import FastSpec, check_fast_device
from music.acestep_v1.fast.step_cache import StepCache
from music.acestep_v1.loading.lora import LoraSlot
from music.acestep_v1.models.transformer import ACEStepDiT

log = logging.getLogger(__name__)


class FastPipeline(Protocol):
    """What the fast modes change on `ACEStepV1Pipeline` for the length of a call."""

    device: torch.device
    transformer: ACEStepDiT
    step_cache: StepCache | None
    lora: LoraSlot


@dataclass
class FastRun:
    """One call's fast modes: what to record once it has run."""

    spec: FastSpec
    step_cache: StepCache | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def parameters(self) -> dict[str, Any]:
        """What ran, beside the modes asked for (which the call's parameters hold already)."""
        return {} if self.step_cache is None else {"step_cache": self.step_cache.record()}


class FastModes:
    """A pipeline's int8 variant (None until a call asks for int8) and the call's modes."""

    def __init__(self) -> None:
        self._exact: ACEStepDiT | None = None  # the model the variant was built from
        self._variant: ACEStepDiT | None = None

    def int8_for(self, exact: ACEStepDiT) -> tuple[ACEStepDiT, float]:
        """The int8 variant of `exact` and the seconds spent building it now (0 when kept)."""
        if self._variant is not None and self._exact is exact:
            return self._variant, 0.0
        started = time.perf_counter()
        self._variant, self._exact = None, None  # a new exact model: the old variant goes first
        variant = int8_variant(exact)
        self._variant, self._exact = variant, exact
        seconds = time.perf_counter() - started
        log.info("int8 variant of the DiT built in %.1f s", seconds)
        return variant, seconds

    @contextlib.contextmanager
    def applied(self, pipe: FastPipeline, spec: FastSpec) -> Iterator[FastRun]:
        run = FastRun(spec=spec)
        if not spec.modes:
            yield run
            return
        check_fast_device(spec, str(pipe.device))
        exact = pipe.transformer
        try:
            if spec.int8:
                pipe.lora.apply(None)  # the call has no LoRA (checked); one left by an earlier call goes now
                pipe.transformer, seconds = self.int8_for(exact)
                if seconds:
                    run.timings["int8_quantize"] = seconds
            if spec.step_cache:
                run.step_cache = pipe.step_cache = StepCache(spec.step_cache_threshold)
            yield run
        finally:
            pipe.transformer = exact
            pipe.step_cache = None
