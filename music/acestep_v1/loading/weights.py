"""Loading official safetensors into our modules: skip list, strict key check, no init waste.

Modules are built on the meta device and receive the checkpoint tensors directly
(`load_state_dict(assign=True)`), so nothing is allocated twice and the keys upstream never uses
at inference are never read at all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable

import torch
from safetensors import safe_open
from torch import nn

# Present in the official DiT file, never used at inference (0.72 B parameters): diffusers'
# `Attention(added_kv_proj_dim=...)` creates the add_* projections that upstream's processor
# never calls, and the REPA projectors only serve the training loss.
DIT_UNUSED_KEYS = (
    re.compile(r"^transformer_blocks\.\d+\.cross_attn\.(add_q_proj|add_k_proj|add_v_proj|to_add_out)\."),
    re.compile(r"^projectors\."),
)


class CheckpointError(RuntimeError):
    """A checkpoint that does not fit the model; the message names the offending keys."""


def format_keys(keys: Iterable[str], limit: int = 12) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def read_state_dict(
    path: Path,
    *,
    skip: tuple[re.Pattern, ...] = (),
    dtype: torch.dtype | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file, minus the keys matching `skip` (never read)."""
    out: dict[str, torch.Tensor] = {}
    with safe_open(str(path), framework="pt", device=str(device)) as handle:
        for key in handle.keys():
            if any(pattern.search(key) for pattern in skip):
                continue
            tensor = handle.get_tensor(key)
            if dtype is not None and tensor.is_floating_point():
                tensor = tensor.to(dtype)
            out[key] = tensor
    return out


def assign_state_dict(module: nn.Module, state: dict[str, torch.Tensor], *, what: str) -> nn.Module:
    """Strict load that names every missing or unexpected key, then swaps the tensors in."""
    reference = module.state_dict()
    expected = set(reference)
    missing = expected - set(state)
    unexpected = set(state) - expected
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys: {format_keys(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {format_keys(unexpected)}")
        raise CheckpointError(f"{what} does not match the ACE-Step v1 layout; " + "; ".join(parts))
    shapes = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(reference[k].shape)}"
        for k, v in state.items()
        if tuple(v.shape) != tuple(reference[k].shape)
    ]
    if shapes:
        raise CheckpointError(f"{what} has tensors of the wrong shape (config mismatch?): " + "; ".join(shapes[:8]))
    module.load_state_dict(state, strict=True, assign=True)
    return module


def build_on_meta(factory: Callable[[], nn.Module]) -> nn.Module:
    """Construct a module without allocating (or randomly initialising) its parameters."""
    with torch.device("meta"):
        return factory()
