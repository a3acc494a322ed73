"""Band-limited resampling (windowed sinc, Hann window) in plain torch, for 44.1 -> 48 kHz output.

Same design as torchaudio's default `Resample` (lowpass filter width 6, rolloff 0.99,
`sinc_interp_hann`), which upstream uses; written here so that torchaudio is not needed. The
output length is ceil(new_rate * samples / old_rate).
"""

from __future__ import annotations

import math

import torch


def _sinc_kernel(orig: int, new: int, *, width_zeros: int, rolloff: float, device) -> tuple[torch.Tensor, int]:
    base = min(orig, new) * rolloff
    width = math.ceil(width_zeros * orig / base)
    offsets = torch.arange(-width, width + orig, dtype=torch.float64, device=device)[None, None] / orig
    phases = torch.arange(0, -new, -1, dtype=torch.float64, device=device)[:, None, None] / new
    t = ((phases + offsets) * base).clamp(-width_zeros, width_zeros)
    window = torch.cos(t * math.pi / width_zeros / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / torch.where(t == 0, torch.ones_like(t), t))
    return sinc * window * (base / orig), width


def resample(audio: torch.Tensor, orig_rate: int, new_rate: int, *, width_zeros: int = 6, rolloff: float = 0.99) -> torch.Tensor:
    """audio (..., samples) float -> (..., ceil(new/orig * samples))."""
    if orig_rate == new_rate:
        return audio
    if orig_rate <= 0 or new_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_rate} -> {new_rate}")
    common = math.gcd(int(orig_rate), int(new_rate))
    orig, new = int(orig_rate) // common, int(new_rate) // common
    kernel, width = _sinc_kernel(orig, new, width_zeros=width_zeros, rolloff=rolloff, device=audio.device)
    shape = audio.shape
    flat = audio.reshape(-1, shape[-1])
    length = flat.shape[-1]
    padded = torch.nn.functional.pad(flat[:, None], (width, width + orig))
    out = torch.nn.functional.conv1d(padded, kernel.to(flat.dtype), stride=orig)  # (N, new, frames)
    out = out.transpose(1, 2).reshape(flat.shape[0], -1)
    target = math.ceil(new * length / orig)
    return out[..., :target].reshape(*shape[:-1], target)
