"""Helpers for reading the upstream reference cases."""

from __future__ import annotations

import torch

TEXT2MUSIC_CASES = (
    "t2m_euler_apg",
    "t2m_heun_cfg",
    "t2m_pingpong_cfg_star",
    "t2m_double_condition",
    "t2m_oss_steps",
    "t2m_batch2",
    "t2m_instrumental",
)
TOLERANCE = 1e-3  # upstream differs from itself by 2e-5 between 1 and 2 threads


def stored_lyric_ids(tensors: dict[str, torch.Tensor]) -> list[int]:
    """Upstream's lyric ids as stored in a case ([] for the instrumental: ids [[0]], mask [[0]])."""
    if int(tensors["lyric_mask"].sum()) == 0:
        return []
    return tensors["lyric_token_ids"][0].tolist()


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, f"shape {tuple(a.shape)} != {tuple(b.shape)}"
    return (a.float() - b.float()).abs().max().item()
