"""The step-cache fast mode: reuse the DiT blocks' residual on steps where their input barely changes.

First-Block Cache (ParaAttention; TeaCache is the same idea with a fitted estimate): every step
runs the first DiT block. Its residual r1 = block_0(h) - h is compared with r1 of the last step
that ran in full; when the relative change mean|r1 - r1_full| / mean|r1_full| is below the
threshold, blocks 1..N-1 are skipped and the residual they added on that full step
(h_N - h_1) is added instead. Comparing against the last full step, not the previous step,
lets slow drift add up until a step runs in full again.

Each guided pass (cond, text_only, null) has its own cache and makes its own decision: its rows
see another context and, for null, ERG-weakened blocks. In a batched guided step the passes that
must run in full run blocks 1.. together on their rows only; when none must, the step costs one
block. The first step of each pass always runs in full. `StepCache.record()` says how often each
pass ran and how often it skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

# inputs of `ACEStepDiT.run_blocks` that hold one row per batch row (the rest are shared)
_ROW_INPUTS = ("context", "temb", "frame_mask", "attn_mask", "q_scale")


@dataclass
class _PassState:
    first_residual: torch.Tensor | None = None  # block 0's residual on the last full step
    rest_residual: torch.Tensor | None = None  # what blocks 1.. added on that step
    calls: int = 0
    skipped: int = 0


class StepCache:
    """One sampling run's cache. `view(names, rows_each)` describes a forward's rows as passes."""

    def __init__(self, threshold: float):
        if not threshold > 0:
            raise ValueError(f"step cache threshold must be > 0, got {threshold}")
        self.threshold = float(threshold)
        self.passes: dict[str, _PassState] = {}

    def view(self, names: Sequence[str], rows_each: int) -> "StepCacheView":
        """A forward whose rows are `rows_each` rows of each pass in `names`, in that order."""
        return StepCacheView(self, [(name, slice(i * rows_each, (i + 1) * rows_each)) for i, name in enumerate(names)])

    def relative_change(self, name: str, first_residual: torch.Tensor) -> float | None:
        state = self.passes.get(name)
        if state is None or state.first_residual is None or state.first_residual.shape != first_residual.shape:
            return None
        previous = state.first_residual.float()
        return float((first_residual.float() - previous).abs().mean() / previous.abs().mean().clamp(min=1e-12))

    def record(self) -> dict:
        """What ran: per pass, the forwards and how many of them skipped blocks 1.."""
        return {
            "threshold": self.threshold,
            "calls": {name: s.calls for name, s in self.passes.items()},
            "skipped": {name: s.skipped for name, s in self.passes.items()},
        }


class StepCacheView:
    """The cache as one `ACEStepDiT.decode` call sees it (its `step_cache` argument)."""

    def __init__(self, cache: StepCache, groups: list[tuple[str, slice]]):
        self.cache = cache
        self.groups = groups
        self.skipped: list[str] = []  # after `run`: the passes that reused their residual

    def run(self, run_blocks: Callable[..., torch.Tensor], h: torch.Tensor, *, depth: int, **inputs) -> torch.Tensor:
        """Blocks 0..depth-1 of one forward, with blocks 1.. skipped for the passes whose first-block
        residual barely changed. `run_blocks(h, indices, **inputs)` is the model's block loop."""
        cache = self.cache
        first = run_blocks(h, range(1), **inputs)
        residual = first - h
        skip, full = [], []
        for name, rows in self.groups:
            state = cache.passes.setdefault(name, _PassState())
            state.calls += 1
            change = cache.relative_change(name, residual[rows])
            if change is not None and change < cache.threshold and state.rest_residual is not None:
                state.skipped += 1
                self.skipped.append(name)
                skip.append((rows, state.rest_residual))
            else:
                state.first_residual = residual[rows].clone()
                full.append((name, rows))
        if not skip:  # every pass runs in full: the exact block loop on all rows
            out = run_blocks(first, range(1, depth), **inputs)
            for name, rows in full:
                cache.passes[name].rest_residual = (out[rows] - first[rows]).clone()
            return out
        out = first.clone()
        for rows, rest in skip:
            out[rows] += rest
        if full:
            index = torch.cat([torch.arange(r.start, r.stop, device=h.device) for _, r in full])
            ran = run_blocks(first[index], range(1, depth), **_rows_of(inputs, index))
            start = 0
            for name, rows in full:
                count = rows.stop - rows.start
                part = ran[start:start + count]
                cache.passes[name].rest_residual = (part - first[rows]).clone()
                out[rows] = part
                start += count
        return out


def _rows_of(inputs: dict, index: torch.Tensor) -> dict:
    """The block inputs of the rows `index` (shared inputs such as RoPE tables as they are)."""
    picked = dict(inputs)
    for name in _ROW_INPUTS:
        value = inputs[name]
        picked[name] = None if value is None else value[index]
    if inputs["kv"] is not None:
        picked["kv"] = [(k[index], v[index]) for k, v in inputs["kv"]]
    return picked


def step_cache_view(cache: StepCache | None, names: Sequence[str], rows_each: int) -> StepCacheView | None:
    """`cache.view(names, rows_each)`, or None (the exact path) when no step cache is on."""
    return None if cache is None else cache.view(names, rows_each)
