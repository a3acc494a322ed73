"""Per-batch-row scaling: upstream's ERG forward hooks, expressed so that weakened and plain
rows can share one batch."""

from __future__ import annotations

import torch


def scale_rows(x: torch.Tensor, factors: torch.Tensor | None) -> torch.Tensor:
    """x * factor per batch row, computed in fp32 like upstream's in-place `*= tau` on a
    half-precision tensor (the factor itself is never rounded to bf16)."""
    if factors is None:
        return x
    return (x.float() * factors.view(-1, *([1] * (x.ndim - 1))).float()).to(x.dtype)
